#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "mountinfo.h"
#include "util.h"

/* Resolve a dangling symlink at the component p (which ends at p+i) into the
 * path it names inside the root, followed by the rest of the original path. */
static char *follow_dangling(int pfd, const char *p, const char *rest)
{
	char target[4096];
	const char *slash = strrchr(p, '/');
	ssize_t n = readlinkat(pfd, slash + 1, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	if (target[0] == '/')
		return xasprintf("%s%s", target, rest);
	cleanup_free char *dir = strndup(p, slash - p);
	return xasprintf("%s/%s%s", dir, target, rest);
}

static int open_in_root_depth(int rootfd, const char *path, bool create, bool as_file, int *out, int depth,
                              rune_error_t *err)
{
	int fd = rune_open_in_root(rootfd, path, O_PATH, false);
	if (fd >= 0 || errno != ENOENT || !create) {
		if (fd < 0)
			return rune_error(err, errno, "open %s in the container", path);
		*out = fd;
		return 0;
	}
	if (depth > 40)
		return rune_error(err, ELOOP, "open %s in the container", path);
	/* Walk down, creating what is missing; each step resolves inside the root.
	 * Usually only the last component is missing: when the parent resolves
	 * (to a directory, inside the root), the walk starts there. */
	cleanup_free char *p = xstrdup(path);
	size_t len = strlen(p), start = 1;
	char *base = strrchr(p, '/');
	if (base && base > p && base[1] != '\0') {
		*base = '\0';
		cleanup_close int parent = rune_open_in_root(rootfd, p, O_PATH | O_DIRECTORY, false);
		*base = '/';
		if (parent >= 0)
			start = (size_t) (base - p) + 1;
	}
	for (size_t i = start; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		bool last = p[i] == '\0' || p[i + 1] == '\0';
		char saved = p[i];
		p[i] = '\0';
		cleanup_close int probe = rune_open_in_root(rootfd, p, O_PATH, false);
		if (probe < 0 && errno == ENOENT) {
			char *slash = strrchr(p, '/');
			cleanup_free char *parent = slash == p ? xstrdup("/") : strndup(p, slash - p);
			cleanup_close int pfd = rune_open_in_root(rootfd, parent, O_PATH | O_DIRECTORY, false);
			if (pfd < 0)
				return rune_error(err, errno, "open %s in the container", parent);
			/* A symlink to something missing: create what it names, inside the root. */
			cleanup_free char *via = follow_dangling(pfd, p, saved ? path + i : "");
			if (via)
				return open_in_root_depth(rootfd, via, create, as_file, out, depth + 1, err);
			if (last && as_file) {
				int f =
				    openat(pfd, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
				if (f < 0 && errno != EEXIST)
					return rune_error(err, errno, "create %s in the container", p);
				if (f >= 0)
					close(f);
			} else if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST) {
				return rune_error(err, errno, "mkdir %s in the container", p);
			}
		} else if (probe < 0) {
			return rune_error(err, errno, "open %s in the container", p);
		}
		p[i] = saved;
		if (saved == '\0')
			break;
	}
	fd = rune_open_in_root(rootfd, path, O_PATH, false);
	if (fd < 0)
		return rune_error(err, errno, "open %s in the container", path);
	*out = fd;
	return 0;
}

int librune_open_in_root(int rootfd, const char *path, bool create, bool as_file, int *out, rune_error_t *err)
{
	return open_in_root_depth(rootfd, path, create, as_file, out, 0, err);
}

static const char *fdpath(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

/* Flags of the mount at path that a remount must keep (the kernel locks them in
 * a user namespace). */
static unsigned long locked_flags(const char *path)
{
	struct statvfs s;
	unsigned long f = 0;
	if (statvfs(path, &s) < 0)
		return 0;
	if (s.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (s.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (s.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (s.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (s.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (s.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int set_propagation_and_attrs(const struct rune_mount *m, const char *target, int fd, rune_error_t *err)
{
	if (m->propagation && mount(NULL, target, NULL, m->propagation, NULL) < 0)
		return rune_error(err, errno, "set propagation of %s", m->destination);
	if (m->attr_set || m->attr_clr) {
		struct mount_attr a = { .attr_set = m->attr_set, .attr_clr = m->attr_clr };
		if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			return rune_error(err, errno, "set recursive attributes on %s", m->destination);
	}
	return 0;
}

/* Remount the mount now on dest (an fd opened before the mount would name what
 * lies below it, so reopen). */
static int remount_bind_at(int rootfd, const char *dest, unsigned long flags, rune_error_t *err)
{
	cleanup_close int fd = -1;
	char buf[64];
	if (librune_open_in_root(rootfd, dest, false, false, &fd, err) < 0)
		return -1;
	const char *target = fdpath(fd, buf, sizeof(buf));
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | locked_flags(target), NULL) < 0)
		return rune_error(err, errno, "remount %s with its options", dest);
	return 0;
}

/* source_fd: a detached mount rune prepared for this one (an idmapped clone,
 * or the source tree of a user-namespaced container's bind mount), else -1. */
static int mount_bind(const struct rune_mount *m, int source_fd, int rootfd, rune_error_t *err)
{
	struct stat st;
	char buf[64];
	cleanup_close int fd = -1;
	const char *src = m->source ? m->source : "";

	if ((source_fd >= 0 ? fstat(source_fd, &st) : stat(src, &st)) < 0)
		return rune_error(err, errno, "mount source %s for %s", src, m->destination);
	if (librune_open_in_root(rootfd, m->destination, true, !S_ISDIR(st.st_mode), &fd, err) < 0)
		return -1;
	const char *target = fdpath(fd, buf, sizeof(buf));
	if (source_fd >= 0) {
		if (syscall(SYS_move_mount, source_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
		    < 0)
			return rune_error(err, errno, "move the prepared mount of %s onto %s", src, m->destination);
	} else if (mount(src, target, NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
		return rune_error(err, errno, "bind mount %s on %s", src, m->destination);
	unsigned long extra = m->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	if (extra && remount_bind_at(rootfd, m->destination, extra, err) < 0)
		return -1;
	/* Propagation and attributes apply to the new mount: reopen it too. */
	close(fd);
	fd = -1;
	if (librune_open_in_root(rootfd, m->destination, false, false, &fd, err) < 0)
		return -1;
	return set_propagation_and_attrs(m, fdpath(fd, buf, sizeof(buf)), fd, err);
}

/* v1/hybrid: a tmpfs with the container's directory of each hierarchy bound in;
 * v2: the container's own cgroup2 directory. */
static int mount_cgroup_in(const struct rune_mount *m, int rootfd, const struct rune_cgroup *cg, rune_error_t *err);

static int mount_cgroup(const struct rune_mount *m, int rootfd, const struct rune_cgroup *given, rune_error_t *err)
{
	struct rune_cgroup *adopted = NULL;
	/* Placed by systemd after we were spawned: find out where from ourselves. */
	if (given == NULL && librune_cgroup_adopt(0, &adopted, err) < 0)
		return -1;
	const struct rune_cgroup *cg = given ? given : adopted;
	int r = mount_cgroup_in(m, rootfd, cg, err);
	librune_cgroup_free(adopted);
	return r;
}

static int mount_cgroup_in(const struct rune_mount *m, int rootfd, const struct rune_cgroup *cg, rune_error_t *err)
{
	char buf[64];
	cleanup_close int fd = -1;
	unsigned long flags = m->flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY | MS_RELATIME);

	if (librune_open_in_root(rootfd, m->destination, true, false, &fd, err) < 0)
		return -1;
	if (librune_cgroup_host_mode() == CGROUP_V2) {
		if (cg == NULL || cg->n == 0)
			return 0;
		if (mount(cg->h[0].dir, fdpath(fd, buf, 64), NULL, MS_BIND, NULL) < 0)
			return rune_error(err, errno, "mount cgroup2 on %s", m->destination);
		return remount_bind_at(rootfd, m->destination, flags, err);
	}
	if (mount("tmpfs", fdpath(fd, buf, 64), "tmpfs", flags & ~MS_RDONLY, "mode=755") < 0)
		return rune_error(err, errno, "mount tmpfs for cgroups on %s", m->destination);
	close(fd);
	/* The tmpfs is new and holds only what is made here, before any process
	 * of the container exists: its entries are made and opened relative to
	 * it, not resolved from the root again for each hierarchy. */
	if (librune_open_in_root(rootfd, m->destination, false, false, &fd, err) < 0)
		return -1;
	for (size_t i = 0; cg && i < cg->n; i++) {
		const char *name = strrchr(cg->h[i].mountpoint, '/') + 1;
		char sbuf[64];
		if (mkdirat(fd, name, 0755) < 0 && errno != EEXIST)
			return rune_error(err, errno, "mkdir %s/%s in the container", m->destination, name);
		cleanup_close int sfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0 || mount(cg->h[i].dir, fdpath(sfd, sbuf, sizeof(sbuf)), NULL, MS_BIND, NULL) < 0)
			return rune_error(err, errno, "bind cgroup %s on %s/%s", cg->h[i].dir, m->destination, name);
		/* (the bind mount's root, now at that name, is what is remounted) */
		cleanup_close int bfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		const char *target = bfd < 0 ? NULL : fdpath(bfd, sbuf, sizeof(sbuf));
		if (target == NULL
		    || mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | flags | locked_flags(target), NULL) < 0)
			return rune_error(err, errno, "remount %s/%s with its options", m->destination, name);
		/* A co-mounted hierarchy (cpu,cpuacct) gets a link per controller. */
		cleanup_free char *names = strchr(name, ',') ? xstrdup(name) : NULL;
		char *save = NULL;
		for (char *t = names ? strtok_r(names, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
			if (symlinkat(name, fd, t) < 0 && errno != EEXIST)
				return rune_error(err, errno, "symlink %s/%s", m->destination, t);
	}
	close(fd);
	fd = -1;
	if (flags & MS_RDONLY) {
		if (librune_open_in_root(rootfd, m->destination, false, false, &fd, err) < 0)
			return -1;
		if (mount(NULL, fdpath(fd, buf, 64), NULL, MS_REMOUNT | flags, "mode=755") < 0)
			return rune_error(err, errno, "remount %s read-only", m->destination);
	}
	return 0;
}

/* proc and sysfs go only on real directories of the image: a symlink there
 * would let the image choose where the kernel's files appear (CVE-2019-19921). */
static int check_kernel_fs_target(const struct rune_mount *m, int rootfd, rune_error_t *err)
{
	struct stat st;
	cleanup_close int fd = rune_open_in_root(rootfd, m->destination, O_PATH | O_NOFOLLOW, true);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		return rune_error(err, ELOOP,
		                  "mount %s on %s: %s must be mounted on ordinary directory (the path goes through a "
		                  "symlink in the rootfs)",
		                  m->type, m->destination, m->type);
	if (fd < 0)
		return rune_error(err, errno, "mount %s on %s", m->type, m->destination);
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return rune_error(err, ENOTDIR, "mount %s on %s: %s must be mounted on ordinary directory (it is %s)",
		                  m->type, m->destination, m->type, S_ISLNK(st.st_mode) ? "a symlink" : "a file");
	return 0;
}

/* A read-only tmpfs or /dev is mounted writable and remounted read-only at the end. */
static bool read_only_later(const struct rune_mount *m)
{
	if (!(m->flags & MS_RDONLY) || m->bind)
		return false;
	size_t n = strlen(m->destination);
	while (n > 1 && m->destination[n - 1] == '/')
		n--;
	return (m->type && strcmp(m->type, "tmpfs") == 0) || (n == 4 && strncmp(m->destination, "/dev", 4) == 0);
}

static int mount_one(const struct rootfs_ctx *ctx, size_t i, int rootfd, rune_error_t *err)
{
	const struct rune_mount *m = &ctx->config->mounts[i];
	char buf[64];
	cleanup_close int fd = -1;

	if (m->bind)
		return mount_bind(m, ctx->mount_fds ? ctx->mount_fds[i] : -1, rootfd, err);
	if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0)
		return mount_cgroup(m, rootfd, ctx->cgroup, err);
	if ((strcmp(m->type, "proc") == 0 || strcmp(m->type, "sysfs") == 0)
	    && check_kernel_fs_target(m, rootfd, err) < 0)
		return -1;
	if (librune_open_in_root(rootfd, m->destination, true, false, &fd, err) < 0)
		return -1;
	const char *target = fdpath(fd, buf, sizeof(buf));
	unsigned long flags = m->flags & ~MS_REMOUNT;
	/* Filled in first (/dev gets its nodes), made read-only by rootfs_finalize. */
	if (read_only_later(m))
		flags &= ~MS_RDONLY;
	if (mount(m->source ? m->source : m->type, target, m->type, flags, m->data) < 0) {
		int e = errno;
		/* sysfs may not be mounted in a user namespace without its own netns: bind it. */
		if (strcmp(m->type, "sysfs") == 0 && e == EPERM) {
			if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) == 0)
				return 0;
		}
		return rune_error(err, e, "mount %s (type %s) on %s", m->source ? m->source : m->type, m->type,
		                  m->destination);
	}
	close(fd);
	fd = -1;
	if (librune_open_in_root(rootfd, m->destination, false, false, &fd, err) < 0)
		return -1;
	return set_propagation_and_attrs(m, fdpath(fd, buf, sizeof(buf)), fd, err);
}

static const struct rune_device default_devices[] = {
	{ .path = "/dev/null", .type = 'c', .major = 1, .minor = 3, .has_mode = true, .mode = 0666 },
	{ .path = "/dev/zero", .type = 'c', .major = 1, .minor = 5, .has_mode = true, .mode = 0666 },
	{ .path = "/dev/full", .type = 'c', .major = 1, .minor = 7, .has_mode = true, .mode = 0666 },
	{ .path = "/dev/random", .type = 'c', .major = 1, .minor = 8, .has_mode = true, .mode = 0666 },
	{ .path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9, .has_mode = true, .mode = 0666 },
	{ .path = "/dev/tty", .type = 'c', .major = 5, .minor = 0, .has_mode = true, .mode = 0666 },
};

static int create_device(const struct rune_device *d, int rootfd, bool bind, rune_error_t *err)
{
	cleanup_free char *parent = xstrdup(d->path);
	char *slash = strrchr(parent, '/');
	cleanup_close int pfd = -1;
	*slash = '\0';
	if (librune_open_in_root(rootfd, parent[0] ? parent : "/", true, false, &pfd, err) < 0)
		return -1;
	if (bind) {
		cleanup_close int fd = -1;
		char buf[64];
		if (librune_open_in_root(rootfd, d->path, true, true, &fd, err) < 0)
			return -1;
		if (mount(d->path, fdpath(fd, buf, sizeof(buf)), NULL, MS_BIND, NULL) < 0)
			return rune_error(err, errno, "bind device %s", d->path);
		return 0;
	}
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	mode_t mode = d->has_mode ? d->mode : 0666;
	if (mknodat(pfd, slash + 1, type | mode, makedev(d->major, d->minor)) < 0) {
		if (errno == EEXIST)
			return 0;
		return rune_error(err, errno, "mknod %s", d->path);
	}
	/* mknod honours the umask; set the mode and owner exactly as asked. */
	if (fchmodat(pfd, slash + 1, mode, 0) < 0
	    || fchownat(pfd, slash + 1, d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, AT_SYMLINK_NOFOLLOW) < 0)
		return rune_error(err, errno, "set mode and owner of %s", d->path);
	return 0;
}

static int populate_dev(const struct rootfs_ctx *ctx, int rootfd, rune_error_t *err)
{
	static const char *links[][2] = {
		{ "/proc/self/fd", "fd" },       { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" },
	};
	cleanup_close int devpath = -1;

	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		if (create_device(&default_devices[i], rootfd, ctx->userns, err) < 0)
			return -1;
	for (size_t i = 0; i < ctx->config->n_devices; i++)
		if (create_device(&ctx->config->devices[i], rootfd, ctx->userns, err) < 0)
			return -1;
	if (librune_open_in_root(rootfd, "/dev", true, false, &devpath, err) < 0)
		return -1;
	cleanup_close int dev = openat(devpath, ".", O_DIRECTORY | O_CLOEXEC);
	if (dev < 0)
		return rune_error(err, errno, "open /dev in the container");
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		/* A ptmx device node from the image gives way to the devpts link. */
		if (strcmp(links[i][1], "ptmx") == 0)
			unlinkat(dev, "ptmx", 0);
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			return rune_error(err, errno, "symlink /dev/%s", links[i][1]);
	}
	if (access("/proc/kcore", F_OK) == 0 && symlinkat("/proc/kcore", dev, "core") < 0 && errno != EEXIST)
		return rune_error(err, errno, "symlink /dev/core");
	return 0;
}

struct mount_search {
	const char *path;
	char *best; /* the longest mount point path lies within */
};

static int find_parent_mount(const struct rune_mount_entry *e, void *data)
{
	struct mount_search *s = data;
	if (rune_path_within(s->path, e->mountpoint) && (s->best == NULL || strlen(e->mountpoint) >= strlen(s->best))) {
		free(s->best);
		s->best = xstrdup(e->mountpoint);
	}
	return 0;
}

/* The mount the rootfs lies on, made private: pivot_root refuses a new root
 * whose parent mount is shared, and an unbindable one cannot be bound (both
 * follow from linux.rootfsPropagation). Only that mount changes. */
static int make_parent_mount_private(const char *rootfs, rune_error_t *err)
{
	struct mount_search s = { .path = rootfs };
	if (rune_mountinfo_each(find_parent_mount, &s, err) < 0)
		return -1;
	cleanup_free char *parent = s.best;
	if (parent && mount(NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
		return rune_error(err, errno, "make %s (the mount under the rootfs) private", parent);
	return 0;
}

int librune_rootfs_prepare(const struct rootfs_ctx *ctx, rune_error_t *err)
{
	const struct rune_config *c = ctx->config;
	unsigned long prop = c->rootfs_propagation ? c->rootfs_propagation : MS_SLAVE | MS_REC;

	/* Keep our mounts from propagating back to the host (or as asked). */
	if (mount(NULL, "/", NULL, prop, NULL) < 0)
		return rune_error(err, errno, "set propagation of / in the container's mount namespace");
	/* Only shared and unbindable propagation leave the parent in pivot_root's
	 * or the bind's way (rslave, the default, covers it already). */
	if ((prop & (MS_SHARED | MS_UNBINDABLE)) && make_parent_mount_private(ctx->rootfs, err) < 0)
		return -1;
	if (mount(ctx->rootfs, ctx->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return rune_error(err, errno, "bind the rootfs %s onto itself", ctx->rootfs);
	cleanup_close int rootfd = open(ctx->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return rune_error(err, errno, "open rootfs %s", ctx->rootfs);
	for (size_t i = 0; i < c->n_mounts; i++)
		if (mount_one(ctx, i, rootfd, err) < 0)
			return rune_error_wrap(err, "mounts[%zu]", i);
	return populate_dev(ctx, rootfd, err);
}

struct kernel_fs_list {
	const char *rootfs;
	char **mountpoints;
};

static int collect_host_kernel_fs(const struct rune_mount_entry *e, void *data)
{
	struct kernel_fs_list *l = data;
	if (strcmp(e->root, "/") == 0 && (strcmp(e->fstype, "proc") == 0 || strcmp(e->fstype, "sysfs") == 0)
	    && !rune_path_within(e->mountpoint, l->rootfs))
		rune_strv_append(&l->mountpoints, e->mountpoint);
	return 0;
}

/* With --no-pivot the host's procfs and sysfs mounts stay in the container's
 * mount namespace (chroot only hides them), and the kernel lets a nested user
 * namespace mount a fresh procfs wherever a full one is still mounted. So
 * every full procfs and sysfs outside the rootfs is detached, or covered
 * where it cannot be. */
static int hide_host_kernel_fs(const char *rootfs, rune_error_t *err)
{
	struct kernel_fs_list l = { .rootfs = rootfs, .mountpoints = xcalloc(1, sizeof(char *)) };
	int r = rune_mountinfo_each(collect_host_kernel_fs, &l, err);
	cleanup_strv char **mps = l.mountpoints;
	for (size_t i = 0; r == 0 && mps[i]; i++) {
		if (mount(NULL, mps[i], NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue; /* below one detached already */
			return rune_error(err, errno, "--no-pivot: make %s a slave", mps[i]);
		}
		if (umount2(mps[i], MNT_DETACH) == 0)
			continue;
		if ((errno != EINVAL && errno != EPERM) || mount("tmpfs", mps[i], "tmpfs", 0, NULL) < 0)
			return rune_error(err, errno, "--no-pivot: hide the host's %s", mps[i]);
	}
	return r;
}

int librune_rootfs_pivot(const char *rootfs, bool no_pivot, rune_error_t *err)
{
	if (no_pivot) {
		if (hide_host_kernel_fs(rootfs, err) < 0)
			return -1;
		if (chdir(rootfs) < 0)
			return rune_error(err, errno, "chdir %s", rootfs);
		if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
			return rune_error(err, errno, "move the rootfs to /");
		if (chroot(".") < 0)
			return rune_error(err, errno, "chroot");
		return chdir("/") < 0 ? rune_error(err, errno, "chdir /") : 0;
	}
	cleanup_close int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	cleanup_close int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0 || newroot < 0)
		return rune_error(err, errno, "open / or %s", rootfs);
	if (fchdir(newroot) < 0)
		return rune_error(err, errno, "chdir %s", rootfs);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return rune_error(err, errno, "pivot_root %s (use --no-pivot on a ramfs root)", rootfs);
	if (fchdir(oldroot) < 0)
		return rune_error(err, errno, "fchdir old root");
	/* The old root is now stacked on "."; detach it without telling the host. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return rune_error(err, errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return rune_error(err, errno, "detach the old root");
	return chdir("/") < 0 ? rune_error(err, errno, "chdir /") : 0;
}

static int mask_path(const char *path, rune_error_t *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : rune_error(err, errno, "linux.maskedPaths: %s", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0") < 0)
			return rune_error(err, errno, "linux.maskedPaths: mask %s", path);
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0 && errno != ENOENT) {
		return rune_error(err, errno, "linux.maskedPaths: mask %s", path);
	}
	return 0;
}

static int readonly_path(const char *path, rune_error_t *err)
{
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : rune_error(err, errno, "linux.readonlyPaths: bind %s", path);
	if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked_flags(path), NULL) < 0)
		return rune_error(err, errno, "linux.readonlyPaths: remount %s read-only", path);
	return 0;
}

static int write_sysctl(const char *key, const char *value, rune_error_t *err)
{
	cleanup_free char *path = xasprintf("/proc/sys/%s", key);
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	if (strstr(key, "..") || key[0] == '/')
		return rune_error(err, EINVAL, "linux.sysctl: invalid key '%s'", key);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		return rune_error(err, errno, "linux.sysctl: set %s=%s", key, value);
	return 0;
}

static int remount_read_only(const struct rune_mount *m, rune_error_t *err)
{
	char buf[64];
	cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int fd = root < 0 ? -1 : rune_open_in_root(root, m->destination, O_PATH, false);
	if (fd < 0)
		return rune_error(err, errno, "open %s", m->destination);
	const char *target = fdpath(fd, buf, sizeof(buf));
	if (mount(NULL, target, NULL, MS_REMOUNT | m->flags | locked_flags(target), m->data) < 0)
		return rune_error(err, errno, "remount %s read-only", m->destination);
	return 0;
}

int librune_rootfs_finalize(const struct rune_config *c, rune_error_t *err)
{
	/* linux.rootfsPropagation on the root we now have, not on the host's. */
	unsigned long prop = c->rootfs_propagation;
	if (prop && !(prop & MS_PRIVATE) && mount(NULL, "/", NULL, prop, NULL) < 0)
		return rune_error(err, errno, "linux.rootfsPropagation: set it on /");
	for (size_t i = 0; c->sysctl_keys && c->sysctl_keys[i]; i++)
		if (write_sysctl(c->sysctl_keys[i], c->sysctl_values[i], err) < 0)
			return -1;
	for (size_t i = 0; i < c->n_mounts; i++)
		if (read_only_later(&c->mounts[i]) && remount_read_only(&c->mounts[i], err) < 0)
			return rune_error_wrap(err, "mounts[%zu]", i);
	for (char **p = c->readonly_paths; p && *p; p++)
		if (readonly_path(*p, err) < 0)
			return -1;
	for (char **p = c->masked_paths; p && *p; p++)
		if (mask_path(*p, err) < 0)
			return -1;
	if (c->root_readonly && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
		return rune_error(err, errno, "root.readonly: remount / read-only");
	return 0;
}
