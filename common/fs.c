#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

int rune_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = { .flags = flags, .resolve = resolve };
	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

int rune_open_in_root(int rootfd, const char *path, int flags, bool no_symlinks)
{
	while (*path == '/')
		path++;
	return rune_openat2(rootfd, *path ? path : ".", flags | O_CLOEXEC,
	                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0));
}

/* Open a directory entry for listing; one we may not enter is made enterable. */
static int open_dir_for_removal(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A read-only directory keeps its entries: make it writable. */
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
		fchmod(fd, st.st_mode | 0700);
	return fd;
}

int rune_remove_tree_at(int parent, const char *name, rune_error_t *err)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return rune_error(err, errno, "remove %s", name);
	int fd = open_dir_for_removal(parent, name);
	if (fd < 0)
		return rune_error(err, errno, "open %s for removal", name);
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;
		close(fd);
		return rune_error(err, e, "list %s", name);
	}
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			r = rune_remove_tree_at(dirfd(d), e->d_name, err);
	closedir(d);
	if (r < 0)
		return rune_error_wrap(err, "%s", name);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return rune_error(err, errno, "remove directory %s", name);
	return 0;
}

int rune_remove_tree(const char *path, rune_error_t *err)
{
	cleanup_free char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	const char *parent = ".", *base = copy;
	if (slash) {
		*slash = '\0';
		parent = slash == copy ? "/" : copy;
		base = slash + 1;
	}
	cleanup_close int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return errno == ENOENT ? 0 : rune_error(err, errno, "open %s", parent);
	if (rune_remove_tree_at(pfd, base, err) < 0)
		return rune_error_wrap(err, "remove %s", path);
	return 0;
}
