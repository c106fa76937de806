#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "util.h"

int image_mkdirs_under(int rootfd, const char *path, rune_error_t *err)
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
		int next = rune_open_in_root(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, true);
		int e = errno;
		close(fd);
		if (next < 0)
			return rune_error(err, e == ELOOP ? ENOTDIR : e, "%s: a component is not a directory", path);
		fd = next;
	}
	return fd;
}
