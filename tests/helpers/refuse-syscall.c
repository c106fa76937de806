/* refuse-syscall NAME ERRNO PROGRAM [ARG...]: run PROGRAM with the system
 * call NAME failing with ERRNO (a seccomp filter, as an older kernel or a
 * container engine's profile would refuse it) — to test rune's fallbacks. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: refuse-syscall NAME ERRNO PROGRAM [ARG...]\n");
		return 2;
	}
	int nr = seccomp_syscall_resolve_name(argv[1]);
	if (nr == __NR_SCMP_ERROR) {
		fprintf(stderr, "refuse-syscall: unknown system call %s\n", argv[1]);
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r = ctx ? seccomp_rule_add(ctx, SCMP_ACT_ERRNO(atoi(argv[2])), nr, 0) : -ENOMEM;
	if (r == 0)
		r = seccomp_load(ctx);
	if (r < 0) {
		fprintf(stderr, "refuse-syscall: load the filter: %s\n", strerror(-r));
		return 2;
	}
	seccomp_release(ctx);
	execvp(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}
