/* rune-exec: see rune/lib/dmz.h. Freestanding — no libc, no start files: the
 * kernel's stack at _start is all it reads, and three system calls are all it
 * makes (four if a profile refuses the first), so that it is a few hundred
 * bytes and a seccomp profile has nothing more to allow than the workload's
 * own start. */
#define RUNE_DMZ_PROGRAM
#include "dmz.h"

#include <asm/unistd.h>

#define F_SETFD    2
#define FD_CLOEXEC 1

#if defined(__x86_64__)
static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}
/* The kernel's stack: argc, argv..., NULL, envp..., NULL. */
__asm__(
    ".text\n.globl _start\n_start:\n\txor %rbp, %rbp\n\tmov %rsp, %rdi\n\tand $-16, %rsp\n\tcall dmz_main\n\thlt\n");
#elif defined(__aarch64__)
static long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}
__asm__(".text\n.globl _start\n_start:\n\tmov x0, sp\n\tbl dmz_main\n\tbrk #0\n");
#else
#error "rune-exec: no system call stub for this architecture"
#endif

__attribute__((noreturn, used)) void dmz_main(long *sp);
__attribute__((noreturn, used)) void dmz_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **) (sp + 1);
	char **envp = argv + argc + 1;
	long fd = -1;

	/* rune-exec STATUS-FD PATH ARG0 ... */
	if (argc >= 4) {
		fd = 0;
		for (const char *d = argv[1]; *d >= '0' && *d <= '9' && fd < 1 << 20; d++)
			fd = fd * 10 + (*d - '0');
		/* A profile refusing fcntl costs the report, never the
		 * workload's inheriting the status pipe. */
		if (sys3(__NR_fcntl, fd, F_SETFD, FD_CLOEXEC) < 0) {
			sys3(__NR_close, fd, 0, 0);
			fd = -1;
		}
		struct dmz_status s = { DMZ_EXEC_FAILED,
			                (int) -sys3(__NR_execve, (long) argv[2], (long) (argv + 3), (long) envp) };
		if (fd >= 0)
			sys3(__NR_write, fd, (long) &s, sizeof(s));
	}
	for (;;)
		sys3(__NR_exit_group, 127, 0, 0);
}
