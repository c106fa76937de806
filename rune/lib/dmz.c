#include "dmz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "sealed_exe.h"
#include "util.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern const char librune_dmz_elf[], librune_dmz_elf_end[];

int librune_dmz_open(int *fd, rune_error_t *err)
{
	/* (MFD_EXEC: where vm.memfd_noexec makes memfds not executable by
	 * default; EINVAL from kernels before 6.3, which do not know it) */
	cleanup_close int m = memfd_create("rune-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (m < 0 && errno == EINVAL)
		m = memfd_create("rune-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m < 0)
		return rune_error(err, errno, "memfd_create for rune-exec");
	size_t len = (size_t) (librune_dmz_elf_end - librune_dmz_elf);
	if (rune_write_all(m, librune_dmz_elf, len) < 0)
		return rune_error(err, errno, "write rune-exec into its memfd");
	/* Sealed before any container process can see it: from here on no one,
	 * not even rune, can change a byte of it. */
	if (fchmod(m, 0555) < 0 || librune_memfd_seal(m) < 0)
		return rune_error(err, errno, "seal the rune-exec memfd");
	*fd = take_fd(&m);
	return 0;
}

int librune_dmz_exec(int dmz_fd, int status_fd, const char *path, char *const args[], char *const env[],
                     rune_error_t *err)
{
	size_t n = 0;
	while (args[n])
		n++;
	char fd_text[16];
	snprintf(fd_text, sizeof(fd_text), "%d", status_fd);
	cleanup_free const char **argv = calloc(n + 4, sizeof(*argv));
	if (argv == NULL)
		return rune_error(err, ENOMEM, "exec %s", path);
	argv[0] = "rune-exec";
	argv[1] = fd_text;
	argv[2] = path;
	memcpy(argv + 3, args, (n + 1) * sizeof(*argv));
	/* execve through /proc first: every profile that lets the workload start
	 * allows execve, not always execveat (needed where /proc is absent) */
	char self[32];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", dmz_fd);
	execve(self, (char *const *) argv, env);
	if (errno == ENOENT)
		syscall(SYS_execveat, dmz_fd, "", (char *const *) argv, env, AT_EMPTY_PATH);
	return rune_error(err, errno, "exec rune-exec (the sealed step before %s)", path);
}
