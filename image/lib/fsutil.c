#include "fsutil.h"

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

int open_under(int rootfd, const char *path, int flags, bool no_symlinks)
{
	struct open_how how = { .flags = flags | O_CLOEXEC,
		                .resolve =
		                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0) };
	while (*path == '/')
		path++;
	return syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
}

int mkdirs_under(int rootfd, const char *path, rune_error_t *err)
{
	cleanup_free char *copy = xstrdup(path);
	int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(fd);
			return rune_error(err, e, "mkdir %s", path);
		}
		int next = open_under(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, true);
		int e = errno;
		close(fd);
		if (next < 0)
			return rune_error(err, e == ELOOP ? ENOTDIR : e, "%s: a component is not a directory", path);
		fd = next;
	}
	return fd;
}

int remove_tree_at(int parent, const char *name)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
		fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A read-only directory keeps its entries: make it writable (we own what we unpacked). */
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
		fchmod(fd, st.st_mode | 0700);
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && remove_tree_at(dirfd(d), e->d_name) < 0)
			r = -1;
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
		r = -1;
	return r;
}

int remove_tree(const char *path)
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
		return errno == ENOENT ? 0 : -1;
	return remove_tree_at(pfd, base);
}
