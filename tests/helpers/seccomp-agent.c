/* seccomp-agent SOCKET OUT: a minimal seccomp agent for the SCMP_ACT_NOTIFY
 * tests. Accepts one connection on SOCKET, writes the container process state
 * it receives to OUT, then answers every notification "success, 0" without
 * doing the call (logging "NOTIFIED <syscall>" to OUT), until the fd closes. */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char data[65536] = "", ctl[CMSG_SPACE(sizeof(int))];
	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path))
		return 2;
	strcpy(sa.sun_path, argv[1]);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
		return perror("listen"), 1;
	FILE *out = fopen(argv[2], "w");
	if (out == NULL)
		return 1;
	setvbuf(out, NULL, _IOLBF, 0);
	fprintf(out, "LISTENING\n");
	int c = accept(l, NULL, NULL);
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = c < 0 ? -1 : recvmsg(c, &mh, 0);
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (cm == NULL || cm->cmsg_type != SCM_RIGHTS)
		return fprintf(out, "NO FD\n"), 1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	data[n] = '\0';
	fprintf(out, "STATE %s\n", data);
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	if (seccomp_notify_alloc(&req, &resp) < 0)
		return 1;
	while (seccomp_notify_receive(fd, req) == 0) {
		char *name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
		fprintf(out, "NOTIFIED %s\n", name ? name : "?");
		free(name);
		memset(resp, 0, sizeof(*resp));
		resp->id = req->id;
		seccomp_notify_respond(fd, resp);
	}
	return 0;
}
