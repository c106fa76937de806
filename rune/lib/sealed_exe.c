#include "sealed_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

int librune_sealed_exe_ensure(char **argv, rune_error_t *err)
{
	struct stat st;
	cleanup_close int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (self < 0 || fstat(self, &st) < 0)
		return rune_error(err, errno, "open /proc/self/exe");
	int seals = fcntl(self, F_GET_SEALS);
	if (seals >= 0 && (seals & SEALS) == SEALS)
		return 0;
	cleanup_close int mfd = memfd_create("rune", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return rune_error(err, errno, "memfd_create for a sealed copy of rune");
	for (off_t left = st.st_size; left > 0;) {
		ssize_t n = sendfile(mfd, self, NULL, left);
		if (n <= 0)
			return rune_error(err, n < 0 ? errno : EIO, "copy rune into a memfd");
		left -= n;
	}
	if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
		return rune_error(err, errno, "seal the memfd copy of rune");
	fexecve(mfd, argv, environ);
	return rune_error(err, errno, "re-exec rune from its sealed copy");
}
