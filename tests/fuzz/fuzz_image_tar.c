/* A layer's tar stream, unpacked into a scratch root: whatever the stream
 * says, nothing may land beside the root (absolute names, "..", writes
 * through symlinks, hardlinks out). Both modes: flat (whiteouts delete) and
 * overlay (whiteouts recorded). */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "fuzz.h"
#include "fuzz_reader.h"
#include "stream.h"
#include "unpack.h"

static char scratch[512];

/* The scratch directory holds "root" and nothing else. */
static void check_nothing_outside(void)
{
	DIR *d = opendir(scratch);
	struct dirent *e;
	FUZZ_ASSERT(d != NULL);
	while ((e = readdir(d)) != NULL)
		FUZZ_ASSERT(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0
		            || strcmp(e->d_name, "root") == 0);
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char root[600];
	rune_error_t err = NULL;

	if (scratch[0] == '\0') {
		snprintf(scratch, sizeof(scratch), "%s/rune-fuzz-tar.%d", fuzz_tmpdir(), (int) getpid());
		mkdir(scratch, 0700);
	}
	snprintf(root, sizeof(root), "%s/root", scratch);
	mkdir(root, 0755);
	if (size < 1)
		return 0;
	struct fuzz_reader m = fuzz_reader(data + 1, size - 1, false);
	if (image_unpack_layer(&m.r, root, data[0] & 1 ? UNPACK_OVERLAY : UNPACK_FLAT, NULL, "fuzz", &err) < 0)
		rune_error_release(&err);
	check_nothing_outside();
	if (rune_remove_tree(root, &err) < 0)
		rune_error_release(&err);
	return 0;
}
