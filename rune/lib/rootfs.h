/* The container's filesystem view: mounts from config.json resolved safely
 * inside the rootfs, /dev, pivot_root, masked and read-only paths. Runs in the
 * container's init, in its mount namespace. */
#ifndef RUNE_ROOTFS_H
#define RUNE_ROOTFS_H

#include <stdbool.h>

#include "cgroup.h"
#include "oci_config.h"
#include "error.h"

struct rootfs_ctx {
	const struct rune_config *config;
	const char *rootfs; /* absolute host path */
	const struct rune_cgroup *cgroup;
	const int *mount_fds; /* per mount: what rune opened for it (mount_sources_prepare), or -1; may be NULL */
	bool userns;          /* a new user namespace: devices are bind-mounted, not created */
};

/* Make the rootfs a mount point, then mount everything config.json asks for
 * and populate /dev; all before pivot_root, with host paths still visible. */
int librune_rootfs_prepare(const struct rootfs_ctx *ctx, rune_error_t *err);
/* Enter the rootfs: pivot_root, or MS_MOVE + chroot with no_pivot. */
int librune_rootfs_pivot(const char *rootfs, bool no_pivot, rune_error_t *err);
/* After pivot: masked paths, read-only paths, sysctls, read-only root. */
int librune_rootfs_finalize(const struct rune_config *c, rune_error_t *err);
/* Open `path` inside the tree at rootfd, never resolving outside it; with
 * create, make missing directories (and the last as a file when as_file). */
int librune_open_in_root(int rootfd, const char *path, bool create, bool as_file, int *out, rune_error_t *err);

#endif
