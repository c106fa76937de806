/* Test helper: plays the client side of --console-socket. Listens on a unix
 * socket, receives the pty master by SCM_RIGHTS, writes `input` (if given) to
 * it and copies everything the container prints to stdout until EOF. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char data[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	int master;

	if (argc < 2 || strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "usage: console-receiver SOCKET [INPUT]\n");
		return 2;
	}
	strcpy(addr.sun_path, argv[1]);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(argv[1]);
	if (s < 0 || bind(s, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(s, 1) < 0) {
		perror("console-receiver: listen");
		return 1;
	}
	/* Tell the test we are listening. */
	printf("LISTENING\n");
	fflush(stdout);
	int c = accept(s, NULL, NULL);
	if (c < 0 || recvmsg(c, &msg, 0) < 0) {
		perror("console-receiver: receive");
		return 1;
	}
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (cm == NULL || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "console-receiver: no fd received\n");
		return 1;
	}
	memcpy(&master, CMSG_DATA(cm), sizeof(int));
	printf("RECEIVED %.*s\n", (int) iov.iov_len > 0 ? (int) strnlen(data, sizeof(data)) : 0, data);
	fflush(stdout);
	if (argc > 2)
		(void) !write(master, argv[2], strlen(argv[2]));
	for (;;) {
		char buf[4096];
		struct pollfd p = { .fd = master, .events = POLLIN };
		if (poll(&p, 1, 20000) <= 0)
			break;
		ssize_t n = read(master, buf, sizeof(buf));
		if (n <= 0)
			break;
		fwrite(buf, 1, n, stdout);
		fflush(stdout);
	}
	return 0;
}
