/* File-system helpers for unpacking: paths resolved inside a root without
 * ever leaving it, and trees removed without following symlinks. */
#ifndef RUNE_IMAGE_FSUTIL_H
#define RUNE_IMAGE_FSUTIL_H

#include <stdbool.h>

#include "error.h"

/* Open path (relative to rootfd) with openat2 RESOLVE_IN_ROOT; no_symlinks
 * refuses any symlink on the way. -1 and errno on failure. */
int open_under(int rootfd, const char *path, int flags, bool no_symlinks);
/* mkdir -p inside rootfd, no symlink followed; the directory's fd. */
int mkdirs_under(int rootfd, const char *path, rune_error_t *err);
/* Remove dirfd/name and everything below it; symlinks are removed, never followed. */
int remove_tree_at(int dirfd, const char *name);
/* Remove a path and everything below it. */
int remove_tree(const char *path);

#endif
