#include "sealed_exe.h"

#include <elf.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <link.h>
#include <sys/auxv.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"

/* The overlay's second, empty layer. */
#define EMPTY_LAYER "/run/rune-empty-layer"

extern char **environ;

/* How much of the executable exec needs: up to the end of the furthest
 * segment its program headers (in memory, as loaded) describe. What follows
 * — debug information, section headers — is a third of an unstripped rune's
 * size, and every start would copy it for nothing. */
static off_t loaded_extent(off_t file_size)
{
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *) getauxval(AT_PHDR);
	unsigned long n = getauxval(AT_PHNUM);
	off_t end = 0;
	for (unsigned long i = 0; ph && i < n; i++)
		if (ph[i].p_type != PT_GNU_STACK && (off_t) (ph[i].p_offset + ph[i].p_filesz) > end)
			end = (off_t) (ph[i].p_offset + ph[i].p_filesz);
	return end > 0 && end <= file_size ? end : file_size;
}

/* runc 1.2's way, without a copy: the binary seen through a detached,
 * read-only overlayfs mount of its directory (over an empty one: overlayfs
 * wants two layers when it has no upper), executed from there. Writes through
 * /proc/<pid>/exe then fail (EROFS), and the pages are the page cache's. Needs
 * CAP_SYS_ADMIN and the new mount API (lowerdir+, Linux 6.8): -1 otherwise,
 * and the caller copies instead. */
static int exec_through_overlay(char **argv)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t) n >= sizeof(self) - 1)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	/* (made by the first start; looked at, not re-made, by the others) */
	if (slash == NULL || slash == self
	    || (access(EMPTY_LAYER, F_OK) < 0 && mkdir(EMPTY_LAYER, 0700) < 0 && errno != EEXIST))
		return -1;
	*slash = '\0';
	cleanup_close int fs = syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
	if (fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", self, 0) < 0
	    || syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", EMPTY_LAYER, 0) < 0
	    || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return -1;
	cleanup_close int mnt =
	    syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	cleanup_close int exe = mnt < 0 ? -1 : openat(mnt, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (exe < 0)
		return -1;
	syscall(SYS_execveat, exe, "", argv, environ, AT_EMPTY_PATH);
	return -1;
}

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#define MEMFD_SEALS_KEPT (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW)

/* F_SEAL_FUTURE_WRITE (Linux 5.1) rather than F_SEAL_WRITE: on a memfd that
 * was never mapped both refuse every write from now on, through any
 * descriptor or mapping, but F_SEAL_WRITE first waits for the kernel to let
 * go of the pages just written (per-CPU LRU batches): up to 16 ms in
 * tests/bench/seal.sh, EBUSY after 150 ms on a busy host — a start that
 * failed ("seal the memfd copy of rune: device or resource busy") in CI. */
int librune_memfd_seal(int fd)
{
	if (fcntl(fd, F_ADD_SEALS, MEMFD_SEALS_KEPT | F_SEAL_FUTURE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	return fcntl(fd, F_ADD_SEALS, MEMFD_SEALS_KEPT | F_SEAL_WRITE);
}

bool librune_memfd_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & MEMFD_SEALS_KEPT) == MEMFD_SEALS_KEPT
	       && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0;
}

/* Already running from something nobody can write: a sealed memfd, or a
 * read-only overlayfs (exec_through_overlay's). */
static bool running_sealed(int self)
{
	struct statfs sf;
	if (librune_memfd_sealed(self))
		return true;
	return fstatfs(self, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC && (sf.f_flags & ST_RDONLY);
}

bool librune_sealed_exe_running(void)
{
	cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	return self >= 0 && running_sealed(self);
}

bool librune_sealed_exe_needed(const struct rune_config *c, const struct rune_process *p)
{
	return (c && c->enclave) || (p->apparmor_profile && p->apparmor_profile[0])
	       || (p->selinux_label && p->selinux_label[0]) || getenv("RUNE_REEXEC") || getenv("RUNE_SEALED_COPY");
}

int librune_sealed_exe_ensure(char **argv, rune_error_t *err)
{
	struct stat st;
	cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0 || fstat(self, &st) < 0)
		return rune_error(err, errno, "open /proc/self/exe");
	if (running_sealed(self))
		return 0;
	if (getenv("RUNE_SEALED_COPY") == NULL) /* (the copy, forced: for tests and benchmarks) */
		exec_through_overlay(argv);
	cleanup_close int mfd = memfd_create("rune", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return rune_error(err, errno, "memfd_create for a sealed copy of rune");
	for (off_t left = loaded_extent(st.st_size); left > 0;) {
		ssize_t n = sendfile(mfd, self, NULL, left);
		if (n <= 0)
			return rune_error(err, n < 0 ? errno : EIO, "copy rune into a memfd");
		left -= n;
	}
	if (librune_memfd_seal(mfd) < 0)
		return rune_error(err, errno, "seal the memfd copy of rune");
	fexecve(mfd, argv, environ);
	return rune_error(err, errno, "re-exec rune from its sealed copy");
}
