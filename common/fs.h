/* Paths resolved inside a directory without ever leaving it, and trees
 * removed without following symlinks: the file-system primitives that the
 * runtime's mounts and the image unpacker both stand on. */
#ifndef RUNE_FS_H
#define RUNE_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* openat2(2), which glibc does not wrap. Like open(2): an fd, or -1 and errno. */
int rune_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve);

/* Open path under rootfd as if rootfd were "/" (RESOLVE_IN_ROOT; no magic
 * links such as /proc/self/fd/N), close-on-exec; no_symlinks refuses any
 * symlink on the way (ELOOP). A leading '/' and "" name rootfd itself. Like
 * open(2): an fd, or -1 and errno, for callers that tell ENOENT apart. */
int rune_open_in_root(int rootfd, const char *path, int flags, bool no_symlinks);

/* Remove dirfd/name and everything below it: symlinks are removed, never
 * followed; directories we may not enter are made enterable first (a tree we
 * unpacked is ours). A missing name is not an error. */
int rune_remove_tree_at(int dirfd, const char *name, rune_error_t *err);
/* The same for a path. */
int rune_remove_tree(const char *path, rune_error_t *err);

#endif
