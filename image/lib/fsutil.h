/* Creating directories for unpacked entries inside a root, never through a
 * symlink (resolution itself is common/fs.h). */
#ifndef RUNE_IMAGE_FSUTIL_H
#define RUNE_IMAGE_FSUTIL_H

#include "error.h"

/* mkdir -p inside rootfd, no symlink followed; the directory's fd. */
int image_mkdirs_under(int rootfd, const char *path, rune_error_t *err);

#endif
