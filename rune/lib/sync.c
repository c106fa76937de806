#include "sync.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sync_send(int fd, enum sync_type type, int value, const char *text)
{
	struct sync_msg m = { .type = type, .value = value };
	size_t len = offsetof(struct sync_msg, text);
	if (text) {
		snprintf(m.text, sizeof(m.text), "%s", text);
		len += strlen(m.text) + 1;
	}
	for (;;) {
		ssize_t r = send(fd, &m, len, MSG_NOSIGNAL);
		if (r >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int sync_recv(int fd, struct sync_msg *m, const char *peer, rune_error_t *err)
{
	ssize_t r;
	memset(m, 0, sizeof(*m));
	do
		r = recv(fd, m, sizeof(*m) - 1, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return rune_error(err, errno, "read from %s", peer);
	if (r == 0)
		return rune_error(err, 0, "%s exited unexpectedly", peer);
	if ((size_t) r < offsetof(struct sync_msg, text))
		return rune_error(err, EPROTO, "short message from %s", peer);
	return 0;
}

int sync_expect(int fd, enum sync_type want, const char *peer, rune_error_t *err)
{
	struct sync_msg m;
	if (sync_recv(fd, &m, peer, err) < 0)
		return -1;
	if (m.type == SYNC_ERROR)
		return rune_error(err, m.value, "%s", m.text);
	if ((int) m.type != (int) want)
		return rune_error(err, EPROTO, "unexpected message %d from %s (wanted %d)", m.type, peer, want);
	return 0;
}

void sync_fail(int fd, rune_error_t err)
{
	/* The error's errno text is already in the message; pass 0 to avoid a repeat. */
	sync_send(fd, SYNC_ERROR, 0, err && err->msg ? err->msg : "unknown error");
	_exit(1);
}

int send_fd(int sock, int fd, const char *name, rune_error_t *err)
{
	char buf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *) name, .iov_len = strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		return rune_error(err, errno, "send a file descriptor over a unix socket");
	return 0;
}

int recv_fd(int sock, int *fd, rune_error_t *err)
{
	char data[4096], buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
	ssize_t r;

	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return rune_error(err, errno, "receive the terminal");
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
		return rune_error(err, EPROTO, "receive the terminal: no file descriptor in the message");
	memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

int console_socket_connect(const char *path, int *fd, rune_error_t *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(addr.sun_path))
		return rune_error(err, ENAMETOOLONG, "--console-socket %s", path);
	strcpy(addr.sun_path, path);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
		int e = errno;
		if (s >= 0)
			close(s);
		return rune_error(err, e, "connect to --console-socket %s", path);
	}
	*fd = s;
	return 0;
}
