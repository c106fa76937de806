#include "pidfd.h"

#include <errno.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int rune_pidfd_open(pid_t pid)
{
	/* Close-on-exec is the kernel's default for pidfds. */
	return syscall(SYS_pidfd_open, pid, 0);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

bool rune_pidfd_wait(int pidfd, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };
		int left = timeout_ms < 0 ? -1 : (int) (deadline - now_ms());
		int r = poll(&p, 1, left < 0 && timeout_ms >= 0 ? 0 : left);
		if (r > 0)
			return true;
		if (r == 0 || errno != EINTR)
			return false;
	}
}
