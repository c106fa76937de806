#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "util.h"

#define READ_CHUNK (1 << 17)

/* The names one layer wrote: whiteouts only apply to the layers below. */
/* mkdir -p inside rootfd, no symlink followed; the directory's fd. */
static int mkdirs_under(int rootfd, const char *path, rune_error_t *err)
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

struct nameset {
	char **slots;
	size_t cap, n;
};

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 1099511628211ULL;
	return h;
}

static void nameset_add(struct nameset *s, const char *name)
{
	if (2 * (s->n + 1) > s->cap) {
		struct nameset bigger = { .cap = s->cap ? 2 * s->cap : 1024 };
		bigger.slots = xcalloc(bigger.cap, sizeof(char *));
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i]) {
				size_t j = hash_str(s->slots[i]) & (bigger.cap - 1);
				while (bigger.slots[j])
					j = (j + 1) & (bigger.cap - 1);
				bigger.slots[j] = s->slots[i];
			}
		bigger.n = s->n;
		free(s->slots);
		*s = bigger;
	}
	size_t j = hash_str(name) & (s->cap - 1);
	while (s->slots[j]) {
		if (strcmp(s->slots[j], name) == 0)
			return;
		j = (j + 1) & (s->cap - 1);
	}
	s->slots[j] = xstrdup(name);
	s->n++;
}

static bool nameset_has(const struct nameset *s, const char *name)
{
	if (s->cap == 0)
		return false;
	for (size_t j = hash_str(name) & (s->cap - 1); s->slots[j]; j = (j + 1) & (s->cap - 1))
		if (strcmp(s->slots[j], name) == 0)
			return true;
	return false;
}

static void nameset_free(struct nameset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->slots[i]);
	free(s->slots);
}

struct unpacker {
	struct reader *r;
	const char *dir, *what;
	enum unpack_mode mode;
	char *const *lowers;
	int rootfd;
	bool root; /* may chown and mknod */
	struct nameset seen;
	rune_error_t read_err;
	char buf[READ_CHUNK];
};

static la_ssize_t on_read(struct archive *a, void *data, const void **buf)
{
	struct unpacker *u = data;
	size_t got = 0;
	if (u->r->read(u->r, u->buf, sizeof(u->buf), &got, &u->read_err) < 0) {
		archive_set_error(a, EIO, "%s", u->read_err->msg);
		return -1;
	}
	*buf = u->buf;
	return got;
}

/* "./a//b/" -> "a/b"; refuses absolute names and "..". Empty means the root
 * ("", ".", "./", "/"). */
static int clean_name(const char *name, const char *kind, const struct unpacker *u, char **out, rune_error_t *err)
{
	if (name == NULL)
		return rune_error(err, EINVAL, "%s: an entry without a name", u->what);
	/* The layer's root may be spelled "/" (umoci writes it so); any other
	 * absolute name is refused rather than silently re-rooted. */
	if (name[0] == '/' && name[strspn(name, "/")] != '\0')
		return rune_error(err, EPERM, "%s: entry \"%s\": %s is an absolute path", u->what, name, kind);
	char *o = xmalloc(strlen(name) + 1), *p = o;
	for (const char *c = name; *c;) {
		const char *e = strchrnul(c, '/');
		size_t n = e - c;
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			free(o);
			return rune_error(err, EPERM, "%s: entry \"%s\": %s contains \"..\"", u->what, name, kind);
		}
		if (n > 0 && !(n == 1 && c[0] == '.')) {
			if (p != o)
				*p++ = '/';
			memcpy(p, c, n);
			p += n;
		}
		c = *e ? e + 1 : e;
	}
	*p = '\0';
	*out = o;
	return 0;
}

static void split(const char *path, char **parent, const char **base)
{
	const char *slash = strrchr(path, '/');
	*parent = slash ? strndup(path, slash - path) : xstrdup("");
	*base = slash ? slash + 1 : path;
}

/* Remove parent/name from the layers below (not what this layer wrote). */
static int apply_whiteout(struct unpacker *u, const char *parent, const char *name, rune_error_t *err)
{
	cleanup_free char *victim = xasprintf("%s%s%s", parent, *parent ? "/" : "", name);
	if (nameset_has(&u->seen, victim))
		return 0;
	cleanup_close int pfd = rune_open_in_root(u->rootfd, parent, O_RDONLY | O_DIRECTORY, false);
	if (pfd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0
		                                           : rune_error(err, errno, "%s: whiteout %s", u->what, victim);
	if (rune_remove_tree_at(pfd, name, err) < 0)
		return rune_error_wrap(err, "%s: whiteout %s", u->what, victim);
	return 0;
}

static int apply_opaque(struct unpacker *u, const char *parent, rune_error_t *err)
{
	cleanup_close int pfd = rune_open_in_root(u->rootfd, parent, O_RDONLY | O_DIRECTORY, false);
	if (pfd < 0)
		return errno == ENOENT ? 0 : rune_error(err, errno, "%s: opaque directory %s", u->what, parent);
	int dfd = fcntl(pfd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (d == NULL)
		return rune_error(err, errno, "%s: opaque directory %s", u->what, parent);
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		r = apply_whiteout(u, parent, e->d_name, err);
	}
	closedir(d);
	return r;
}

/* Overlay layer directories record whiteouts the way overlayfs reads them. */
static int record_whiteout(struct unpacker *u, const char *parent, const char *name, bool opaque, rune_error_t *err)
{
	cleanup_close int pfd = mkdirs_under(u->rootfd, parent, err);
	if (pfd < 0)
		return rune_error_wrap(err, "%s", u->what);
	if (opaque) {
		cleanup_close int dfd = rune_open_in_root(pfd, ".", O_RDONLY | O_DIRECTORY, true);
		if (dfd < 0 || fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return rune_error(err, errno, "%s: mark %s opaque (trusted.overlay.opaque needs root)", u->what,
			                  *parent ? parent : "/");
		return 0;
	}
	/* An entry this layer wrote earlier gives way; mknod reports what cannot. */
	rune_remove_tree_at(pfd, name, NULL);
	if (mknodat(pfd, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return rune_error(err, errno, "%s: whiteout %s/%s (a 0:0 device node needs root)", u->what, parent,
		                  name);
	return 0;
}

static int handle_whiteout(struct unpacker *u, const char *path, rune_error_t *err)
{
	cleanup_free char *parent = NULL;
	const char *base;
	split(path, &parent, &base);
	bool opaque = strcmp(base, ".wh..wh..opq") == 0;
	const char *name = base + 4;
	if (!opaque && (*name == '\0' || strcmp(name, ".") == 0))
		return rune_error(err, EINVAL, "%s: entry \"%s\": an empty whiteout", u->what, path);
	if (u->mode == UNPACK_OVERLAY)
		return record_whiteout(u, parent, name, opaque, err);
	return opaque ? apply_opaque(u, parent, err) : apply_whiteout(u, parent, name, err);
}

/* Find a hardlink target: in this layer, or (overlay) in a lower layer, copied up. */
static int hardlink_target(struct unpacker *u, const char *target, rune_error_t *err)
{
	int fd = rune_open_in_root(u->rootfd, target, O_PATH | O_NOFOLLOW, true);
	if (fd >= 0 || u->mode != UNPACK_OVERLAY || errno != ENOENT)
		return fd >= 0 ? fd : rune_error(err, errno, "%s: hardlink target \"%s\"", u->what, target);
	for (char *const *l = u->lowers; l && *l; l++) {
		cleanup_close int lroot = open(*l, O_PATH | O_DIRECTORY | O_CLOEXEC);
		cleanup_close int src = lroot < 0 ? -1 : rune_open_in_root(lroot, target, O_RDONLY | O_NOFOLLOW, true);
		if (src < 0)
			continue;
		struct stat st;
		cleanup_free char *parent = NULL;
		const char *base;
		split(target, &parent, &base);
		cleanup_close int pfd = mkdirs_under(u->rootfd, parent, err);
		if (pfd < 0 || fstat(src, &st) < 0)
			return pfd < 0 ? -1 : rune_error(err, errno, "%s: stat %s", u->what, target);
		cleanup_close int dst =
		    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
		if (dst < 0)
			return rune_error(err, errno, "%s: copy up %s", u->what, target);
		for (off_t left = st.st_size; left > 0;) {
			ssize_t n = copy_file_range(src, NULL, dst, NULL, left, 0);
			if (n <= 0)
				return rune_error(err, n < 0 ? errno : EIO, "%s: copy up %s", u->what, target);
			left -= n;
		}
		if (u->root)
			(void) !fchown(dst, st.st_uid, st.st_gid);
		return rune_open_in_root(u->rootfd, target, O_PATH | O_NOFOLLOW, true);
	}
	return rune_error(err, ENOENT, "%s: hardlink target \"%s\" is in no layer", u->what, target);
}

static int handle_hardlink(struct unpacker *u, const char *path, const char *link, rune_error_t *err)
{
	cleanup_free char *target = NULL;
	if (clean_name(link, "its hardlink target", u, &target, err) < 0)
		return -1;
	if (*target == '\0')
		return rune_error(err, EPERM, "%s: entry \"%s\": hardlink to the root", u->what, path);
	cleanup_close int tfd = hardlink_target(u, target, err);
	if (tfd < 0)
		return -1;
	struct stat st;
	if (fstat(tfd, &st) < 0 || S_ISDIR(st.st_mode))
		return rune_error(err, EPERM, "%s: entry \"%s\": hardlink to a directory", u->what, path);
	cleanup_free char *parent = NULL;
	const char *base;
	split(path, &parent, &base);
	cleanup_close int pfd = mkdirs_under(u->rootfd, parent, err);
	if (pfd < 0)
		return rune_error_wrap(err, "%s: entry \"%s\"", u->what, path);
	if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT)
		return rune_error(err, errno, "%s: entry \"%s\": replace", u->what, path);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", tfd);
	if (linkat(AT_FDCWD, proc, pfd, base, AT_SYMLINK_FOLLOW) < 0)
		return rune_error(err, errno, "%s: entry \"%s\": link to \"%s\"", u->what, path, target);
	return 0;
}

/* Drop xattrs an image must not set on our side of an overlay mount. */
static void filter_xattrs(struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;
	bool bad = false;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
		if (strncmp(name, "trusted.overlay.", 16) == 0)
			bad = true;
	if (!bad)
		return;
	struct archive_entry *copy = archive_entry_clone(e);
	archive_entry_xattr_clear(e);
	archive_entry_xattr_reset(copy);
	while (archive_entry_xattr_next(copy, &name, &value, &size) == ARCHIVE_OK)
		if (strncmp(name, "trusted.overlay.", 16) != 0)
			archive_entry_xattr_add_entry(e, name, value, size);
	archive_entry_free(copy);
}

static int write_entry(struct unpacker *u, struct archive *a, struct archive *w, struct archive_entry *e,
                       const char *path, rune_error_t *err)
{
	mode_t type = archive_entry_filetype(e);
	if ((type == AE_IFCHR || type == AE_IFBLK) && !u->root)
		return 0; /* device nodes need root; without it they are skipped */
	/* Never write through a symlink (libarchive would replace it silently):
	 * an image that tries is refused. */
	cleanup_free char *parent = NULL;
	const char *base;
	split(path, &parent, &base);
	if (*parent) {
		int pfd = rune_open_in_root(u->rootfd, parent, O_PATH | O_DIRECTORY, true);
		if (pfd < 0 && errno != ENOENT)
			return rune_error(err, errno == ELOOP ? EPERM : errno,
			                  "%s: entry \"%s\": its path goes through a symlink or a non-directory",
			                  u->what, path);
		if (pfd >= 0)
			close(pfd);
	}
	filter_xattrs(e);
	cleanup_free char *full = xasprintf("%s/%s", u->dir, path);
	archive_entry_set_pathname(e, full);
	int r = archive_write_header(w, e);
	if (r < ARCHIVE_WARN)
		return rune_error(err, archive_errno(w), "%s: entry \"%s\": %s", u->what, path,
		                  archive_error_string(w));
	if (archive_entry_size(e) > 0 && type == AE_IFREG) {
		const void *buf;
		size_t size;
		la_int64_t off;
		/* A failed write (ENOSPC, EIO) is only ARCHIVE_WARN to libarchive:
		 * anything but OK is a lost byte. */
		while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK)
			if (archive_write_data_block(w, buf, size, off) != ARCHIVE_OK)
				return rune_error(err, archive_errno(w), "%s: entry \"%s\": %s", u->what, path,
				                  archive_error_string(w));
		if (r != ARCHIVE_EOF)
			return u->read_err ? rune_error_move(err, &u->read_err)
			                   : rune_error(err, archive_errno(a), "%s: entry \"%s\": %s", u->what, path,
			                                archive_error_string(a));
	}
	if (archive_write_finish_entry(w) < ARCHIVE_WARN)
		return rune_error(err, archive_errno(w), "%s: entry \"%s\": %s", u->what, path,
		                  archive_error_string(w));
	return 0;
}

static int next_entry(struct unpacker *u, struct archive *a, struct archive *w, struct archive_entry *e,
                      rune_error_t *err)
{
	cleanup_free char *path = NULL;
	if (clean_name(archive_entry_pathname(e), "its name", u, &path, err) < 0)
		return -1;
	if (*path == '\0')
		return 0; /* the layer's own root: its metadata is the bundle's to decide */
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (strncmp(base, ".wh.", 4) == 0)
		return handle_whiteout(u, path, err);
	nameset_add(&u->seen, path);
	const char *link = archive_entry_hardlink(e);
	if (link)
		return handle_hardlink(u, path, link, err);
	return write_entry(u, a, w, e, path, err);
}

int image_unpack_layer(struct reader *r, const char *dir, enum unpack_mode mode, char *const *lowers, const char *what,
                       rune_error_t *err)
{
	struct unpacker *u = xcalloc(1, sizeof(*u));
	u->r = r;
	u->dir = dir;
	u->what = what;
	u->mode = mode;
	u->lowers = lowers;
	u->root = geteuid() == 0;
	u->rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (u->rootfd < 0) {
		int e = errno;
		free(u);
		return rune_error(err, e, "%s: open %s", what, dir);
	}
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK
	            | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
	if (u->root)
		flags |= ARCHIVE_EXTRACT_OWNER;
	archive_write_disk_set_options(w, flags);
	int rc = 0;
	if (archive_read_open(a, u, NULL, on_read, NULL) != ARCHIVE_OK)
		rc = u->read_err ? rune_error_move(err, &u->read_err)
		                 : rune_error(err, archive_errno(a), "%s: %s", what, archive_error_string(a));
	struct archive_entry *e;
	while (rc == 0) {
		int h = archive_read_next_header(a, &e);
		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			rc = u->read_err ? rune_error_move(err, &u->read_err)
			                 : rune_error(err, archive_errno(a), "%s: not a valid tar stream: %s", what,
			                              archive_error_string(a));
			break;
		}
		rc = next_entry(u, a, w, e, err);
	}
	/* Directory permissions and times are fixed up here. */
	if (archive_write_close(w) < ARCHIVE_WARN && rc == 0)
		rc = rune_error(err, archive_errno(w), "%s: %s", what, archive_error_string(w));
	/* The tar's end-of-archive blocks and padding count for the diff_id too. */
	if (rc == 0 && image_reader_drain(r, err) < 0)
		rc = -1;
	archive_write_free(w);
	archive_read_free(a);
	rune_error_release(&u->read_err);
	nameset_free(&u->seen);
	close(u->rootfd);
	free(u);
	return rc;
}
