/* What containerd (or anyone who reaches the socket) sends the shim: ttrpc
 * frames in any cut, the Request envelope, every Task RPC's message and the
 * runtime options Any in CreateTaskRequest — through the same code that
 * serves a connection (shim_conn_feed). The fuzzing build refuses every side
 * effect (rune, mounts, files, stdio), so no task ever exists; answers go to
 * a socketpair that is drained and dropped. The first byte cuts the input
 * into two writes, as a stream may arrive. */
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "shim.h"

static void drain(int fd)
{
	char buf[65536];
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shim_cfg cfg = { .ns = "fuzz", .id = "fuzz", .address = "/nonexistent" };
	static struct shim_server s = { .cfg = &cfg, .events_fd = -1, .epfd = -1, .workdir = "/nonexistent" };
	int sv[2], big = 8 << 20;

	if (size < 1)
		return 0;
	FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	s.exiting = false;
	struct shim_conn *c = shim_conn_open(&s, sv[0]);
	size_t cut = size > 1 ? data[0] % size : 0;
	if (shim_conn_feed(&s, c, data + 1, cut > 0 ? cut - 1 : 0) == 0) {
		drain(sv[1]);
		(void) shim_conn_feed(&s, c, data + (cut > 0 ? cut : 1), size - (cut > 0 ? cut : 1));
	}
	drain(sv[1]);
	FUZZ_ASSERT(s.tasks == NULL);
	shim_conn_close(&s, c);
	close(sv[1]);
	return 0;
}
