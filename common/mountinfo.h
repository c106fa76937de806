/* /proc/self/mountinfo, parsed: the one reader behind the cgroup discovery,
 * the rootfs's parent mount and the --no-pivot procfs masking. */
#ifndef RUNE_MOUNTINFO_H
#define RUNE_MOUNTINFO_H

#include <stdbool.h>

#include "error.h"

struct rune_mount_entry {
	char *root;       /* the mount's root within its filesystem ("/" for a full mount) */
	char *mountpoint; /* octal escapes (\040) decoded */
	char *fstype;
	char *superopts;
};

/* Call fn for every mount of the calling process, in mountinfo order, until
 * it returns non-zero (that value is returned). Lines that do not parse are
 * skipped; a missing /proc is an error. */
int rune_mountinfo_each(int (*fn)(const struct rune_mount_entry *e, void *data), void *data, rune_error_t *err);

/* Is path at or below dir (by whole path components)? */
bool rune_path_within(const char *path, const char *dir);

#endif
