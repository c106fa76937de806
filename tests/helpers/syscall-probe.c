/* Calls each syscall number given (no arguments that matter) and prints what
 * came back: "NR: ok" or "NR: errno E". For the seccomp -ENOSYS tests. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long nr = strtol(argv[i], NULL, 0);
		errno = 0;
		long r = syscall(nr, 0xDEADBEEF, 0xCAFEFEED, 0x1337, 0, 0, 0);
		if (r < 0)
			printf("%ld: errno %d\n", nr, errno);
		else
			printf("%ld: ok\n", nr);
	}
	return 0;
}
