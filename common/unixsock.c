#include "unixsock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"

union fd_control {
	char buf[CMSG_SPACE(RUNE_MSG_MAX_FDS * sizeof(int))];
	struct cmsghdr align;
};

int rune_send_msg(int sock, const void *buf, size_t len, const int *fds, size_t nfds, const char *what,
                  rune_error_t *err)
{
	union fd_control u;
	struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > RUNE_MSG_MAX_FDS)
		return rune_error(err, EINVAL, "send %s: %zu descriptors, at most %d fit", what, nfds,
		                  RUNE_MSG_MAX_FDS);
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rune_error(err, errno, "send %s", what);
	if ((size_t) n != len)
		return rune_error(err, EMSGSIZE, "send %s: %zd of %zu bytes went", what, n, len);
	return 0;
}

static void close_all(int *fds, size_t *nfds)
{
	for (size_t i = 0; i < *nfds; i++)
		close(fds[i]);
	*nfds = 0;
}

int rune_recv_msg(int sock, void *buf, size_t cap, size_t *len, int fds[RUNE_MSG_MAX_FDS], size_t *nfds,
                  const char *what, rune_error_t *err)
{
	union fd_control u;
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rune_error(err, errno, "receive %s", what);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*nfds < RUNE_MSG_MAX_FDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		close_all(fds, nfds);
		return rune_error(err, EMSGSIZE,
		                  "receive %s: the message is larger than %zu bytes or carries too many "
		                  "descriptors",
		                  what, cap);
	}
	*len = (size_t) n;
	return 0;
}

int rune_recv_one_fd(int sock, int *fd, const char *what, rune_error_t *err)
{
	char buf[4096];
	int fds[RUNE_MSG_MAX_FDS];
	size_t len = 0, nfds = 0;

	if (rune_recv_msg(sock, buf, sizeof(buf), &len, fds, &nfds, what, err) < 0)
		return -1;
	if (nfds != 1) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return rune_error(err, EPROTO, "receive %s: %zu descriptors in the message, want 1", what, nfds);
	}
	*fd = fds[0];
	return 0;
}

int rune_peek_msg_size(int sock, size_t *size, const char *what, rune_error_t *err)
{
	ssize_t n;
	do
		n = recv(sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rune_error(err, errno, "receive %s", what);
	*size = (size_t) n;
	return 0;
}

int rune_connect_unix(const char *path, int *fd, const char *what, rune_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return rune_error(err, ENAMETOOLONG, "%s %s: longer than a unix socket path may be (%zu bytes)", what,
		                  path, sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);
	cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return rune_error(err, errno, "%s: socket", what);
	if (connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return rune_error(err, errno, "connect to %s %s", what, path);
	*fd = take_fd(&s);
	return 0;
}
