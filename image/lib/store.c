#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "manifest.h"
#include "stream.h"
#include "util.h"

#define REFS_MAX (16 << 20)

struct store {
	char *root;
	int gc_fd; /* gc.lock: shared by users, exclusive for gc */
};

static int lock_file(const char *path, int how, int *fd, rune_error_t *err)
{
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return rune_error(err, errno, "open %s", path);
	while (flock(*fd, how) < 0)
		if (errno != EINTR) {
			int e = errno;
			close(*fd);
			*fd = -1;
			return rune_error(err, e, "lock %s", path);
		}
	return 0;
}

int image_store_open(const char *root, bool exclusive, struct store **out, rune_error_t *err)
{
	static const char *const dirs[] = { "blobs/sha256", "blobs/sha512", "ingest" };
	if (rune_mkdir_p(root, 0700, err) < 0)
		return rune_error_wrap(err, "image store");
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		cleanup_free char *d = xasprintf("%s/%s", root, dirs[i]);
		if (rune_mkdir_p(d, 0700, err) < 0)
			return rune_error_wrap(err, "image store");
	}
	struct store *s = xcalloc(1, sizeof(*s));
	s->root = xstrdup(root);
	cleanup_free char *lock = xasprintf("%s/gc.lock", root);
	if (lock_file(lock, exclusive ? LOCK_EX : LOCK_SH, &s->gc_fd, err) < 0) {
		free(s->root);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void image_store_close(struct store *s)
{
	if (s == NULL)
		return;
	if (s->gc_fd >= 0)
		close(s->gc_fd);
	free(s->root);
	free(s);
}

char *image_store_blob_path(const struct store *s, const char *digest)
{
	const char *colon = strchr(digest, ':');
	return xasprintf("%s/blobs/%.*s/%s", s->root, (int) (colon - digest), digest, colon + 1);
}

bool image_store_has(const struct store *s, const char *digest, int64_t size)
{
	struct stat st;
	cleanup_free char *p = image_store_blob_path(s, digest);
	return stat(p, &st) == 0 && S_ISREG(st.st_mode) && (size < 0 || st.st_size == size);
}

int image_store_open_blob(const struct store *s, const char *digest, int *fd, rune_error_t *err)
{
	cleanup_free char *p = image_store_blob_path(s, digest);
	*fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return rune_error(err, errno, "blob %s in the store", digest);
	return 0;
}

int image_store_read_blob(const struct store *s, const char *digest, size_t max, char **buf, size_t *len,
                          rune_error_t *err)
{
	cleanup_free char *p = image_store_blob_path(s, digest);
	size_t n = 0;
	if (rune_read_file(p, max, buf, &n, err) < 0)
		return rune_error_wrap(err, "blob %s", digest);
	if (len)
		*len = n;
	if (image_digest_check(*buf, n, digest, "stored blob", err) < 0) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return 0;
}

int image_store_write_blob(const struct store *s, const char *digest, const void *data, size_t len, rune_error_t *err)
{
	struct ingest in;
	if (image_store_has(s, digest, len))
		return 0;
	if (image_store_ingest_begin(s, digest, len, &in, err) < 0)
		return -1;
	int r = image_store_ingest_write(&in, data, len, err);
	if (r == 0)
		r = image_store_ingest_commit(s, &in, err);
	image_store_ingest_release(&in);
	return r;
}

int image_store_ingest_begin(const struct store *s, const char *digest, int64_t size, struct ingest *in,
                             rune_error_t *err)
{
	memset(in, 0, sizeof(*in));
	in->tmp = xasprintf("%s/ingest/%s.XXXXXX", s->root, strchr(digest, ':') + 1);
	in->fd = mkostemp(in->tmp, O_CLOEXEC);
	if (in->fd < 0) {
		int e = errno;
		free(in->tmp);
		in->tmp = NULL;
		return rune_error(err, e, "create a file in %s/ingest", s->root);
	}
	in->digest = xstrdup(digest);
	in->size = size;
	in->d = image_digester_new(digest);
	return 0;
}

int image_store_ingest_write(struct ingest *in, const void *buf, size_t n, rune_error_t *err)
{
	if (in->size >= 0 && in->written + (int64_t) n > in->size)
		return rune_error(err, EBADMSG, "blob %s: more than the %lld bytes its descriptor names", in->digest,
		                  (long long) in->size);
	image_digester_update(in->d, buf, n);
	if (rune_write_all(in->fd, buf, n) < 0)
		return rune_error(err, errno, "write %s", in->tmp);
	in->written += n;
	return 0;
}

void image_store_ingest_restart(struct ingest *in)
{
	if (ftruncate(in->fd, 0) == 0)
		lseek(in->fd, 0, SEEK_SET);
	image_digester_reset(in->d);
	in->written = 0;
}

int image_store_ingest_commit(const struct store *s, struct ingest *in, rune_error_t *err)
{
	if (in->size >= 0 && in->written != in->size)
		return rune_error(err, EBADMSG, "blob %s: truncated: %lld bytes, its descriptor names %lld", in->digest,
		                  (long long) in->written, (long long) in->size);
	cleanup_free char *got = image_digester_final(in->d);
	if (strcmp(got, in->digest) != 0)
		return rune_error(err, EBADMSG, "blob %s: digest mismatch: got %s", in->digest, got);
	if (fchmod(in->fd, 0600) < 0)
		return rune_error(err, errno, "chmod %s", in->tmp);
	cleanup_free char *dst = image_store_blob_path(s, in->digest);
	/* Atomic: a reader sees nothing or the whole verified blob. A concurrent
	 * pull of the same blob renames identical bytes over it. */
	if (rename(in->tmp, dst) < 0)
		return rune_error(err, errno, "rename %s to %s", in->tmp, dst);
	free(in->tmp);
	in->tmp = NULL;
	return 0;
}

void image_store_ingest_release(struct ingest *in)
{
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
	if (in->tmp)
		unlink(in->tmp);
	free(in->tmp);
	free(in->digest);
	image_digester_free(in->d);
	memset(in, 0, sizeof(*in));
	in->fd = -1;
}

void image_store_ref_release(struct store_ref *r)
{
	free(r->name);
	free(r->digest);
	free(r->media_type);
	free(r->pulled);
	memset(r, 0, sizeof(*r));
}

/* refs.json: {"refs": {"<name>": {"digest", "mediaType", "size", "pulled"}}} */
static int refs_load(const struct store *s, struct store_ref **out, size_t *n, rune_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/refs.json", s->root);
	yajl_val tree = NULL;
	*out = NULL;
	*n = 0;
	if (access(path, F_OK) < 0)
		return 0;
	if (rune_json_parse_file(path, REFS_MAX, &tree, err) < 0)
		return -1;
	yajl_val refs = rune_json_get(tree, "refs");
	int r = rune_json_expect_object(refs, "refs", err);
	size_t len = r == 0 && refs ? refs->u.object.len : 0;
	*out = xcalloc(len + 1, sizeof(**out));
	for (size_t i = 0; r == 0 && i < len; i++) {
		struct store_ref *e = &(*out)[i];
		yajl_val v = refs->u.object.values[i];
		e->name = xstrdup(refs->u.object.keys[i]);
		*n = i + 1;
		r = rune_json_read_string(rune_json_get(v, "digest"), "digest", &e->digest, err);
		if (r == 0)
			r = rune_json_read_string(rune_json_get(v, "mediaType"), "mediaType", &e->media_type, err);
		if (r == 0)
			r = rune_json_read_int64(rune_json_get(v, "size"), "size", &e->size, err);
		if (r == 0)
			r = rune_json_read_string(rune_json_get(v, "pulled"), "pulled", &e->pulled, err);
		if (r == 0 && e->digest == NULL)
			r = rune_error(err, EINVAL, "digest: missing");
		if (r < 0)
			rune_error_wrap(err, "refs[\"%s\"]", e->name);
	}
	yajl_tree_free(tree);
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			image_store_ref_release(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
		return rune_error_wrap(err, "%s", path);
	}
	return 0;
}

static int refs_save(const struct store *s, const struct store_ref *refs, size_t n, rune_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/refs.json", s->root);
	yajl_gen g = rune_json_gen_new(true, "  ");
	const unsigned char *buf;
	size_t len;
	yajl_gen_map_open(g);
	rune_json_gen_key(g, "refs");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < n; i++) {
		if (refs[i].name == NULL)
			continue;
		rune_json_gen_key(g, refs[i].name);
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "digest", refs[i].digest);
		if (refs[i].media_type)
			rune_json_gen_kv_str(g, "mediaType", refs[i].media_type);
		rune_json_gen_kv_int(g, "size", refs[i].size);
		if (refs[i].pulled)
			rune_json_gen_kv_str(g, "pulled", refs[i].pulled);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	int r = rune_write_file_atomic(path, buf, len, 0600, err);
	yajl_gen_free(g);
	return r;
}

static void refs_free(struct store_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_store_ref_release(&refs[i]);
	free(refs);
}

/* Read-modify-write of refs.json under refs.lock. */
static int refs_update(const struct store *s, const char *name, const struct store_ref *set, rune_error_t *err)
{
	cleanup_free char *lock = xasprintf("%s/refs.lock", s->root);
	cleanup_close int fd = -1;
	struct store_ref *refs = NULL;
	size_t n = 0;
	if (lock_file(lock, LOCK_EX, &fd, err) < 0 || refs_load(s, &refs, &n, err) < 0)
		return -1;
	size_t i;
	for (i = 0; i < n; i++)
		if (strcmp(refs[i].name, name) == 0)
			break;
	if (set == NULL && i == n) {
		refs_free(refs, n);
		return rune_error(err, ENOENT, "image %s is not in the store", name);
	}
	if (i == n) {
		refs = xrealloc(refs, (n + 2) * sizeof(*refs));
		memset(&refs[n], 0, sizeof(*refs));
		n++;
	}
	image_store_ref_release(&refs[i]);
	if (set) {
		refs[i].name = xstrdup(name);
		refs[i].digest = xstrdup(set->digest);
		refs[i].media_type = set->media_type ? xstrdup(set->media_type) : NULL;
		refs[i].size = set->size;
		refs[i].pulled = set->pulled ? xstrdup(set->pulled) : NULL;
	}
	int r = refs_save(s, refs, n, err);
	refs_free(refs, n);
	return r;
}

int image_store_ref_set(const struct store *s, const struct store_ref *ref, rune_error_t *err)
{
	return refs_update(s, ref->name, ref, err);
}

int image_store_ref_del(const struct store *s, const char *name, rune_error_t *err)
{
	return refs_update(s, name, NULL, err);
}

int image_store_refs(const struct store *s, struct store_ref **out, size_t *n, rune_error_t *err)
{
	return refs_load(s, out, n, err);
}

int image_store_ref_get(const struct store *s, const char *name, struct store_ref *out, rune_error_t *err)
{
	struct store_ref *refs = NULL;
	size_t n = 0;
	memset(out, 0, sizeof(*out));
	if (refs_load(s, &refs, &n, err) < 0)
		return -1;
	int r = rune_error(err, ENOENT, "image %s is not in the store (pull it first)", name);
	for (size_t i = 0; i < n; i++)
		if (strcmp(refs[i].name, name) == 0) {
			*out = refs[i];
			memset(&refs[i], 0, sizeof(refs[i]));
			rune_error_release(err);
			r = 0;
			break;
		}
	refs_free(refs, n);
	return r;
}

/* refs.json.tmp-PID files a killed writer left (paths). */
static void refs_tmp_files(const struct store *s, char ***out)
{
	cleanup_dir DIR *d = opendir(s->root);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "refs.json.tmp-", 14) == 0) {
			cleanup_free char *p = xasprintf("%s/%s", s->root, e->d_name);
			rune_strv_append(out, p);
		}
}

/* Mark what a manifest or index blob reaches (what is present of it). */
static void mark(const struct store *s, const char *digest, char ***live, int depth)
{
	cleanup_free char *body = NULL;
	rune_error_t err = NULL;
	struct manifest m;
	rune_strv_append(live, digest);
	if (depth > 4 || image_store_read_blob(s, digest, MANIFEST_MAX, &body, NULL, &err) < 0) {
		rune_error_release(&err);
		return;
	}
	if (image_manifest_parse(body, NULL, digest, &m, &err) < 0) {
		rune_error_release(&err);
		image_manifest_release(&m);
		return;
	}
	if (m.kind == MANIFEST_INDEX) {
		for (size_t i = 0; i < m.n_manifests; i++)
			if (image_store_has(s, m.manifests[i].digest, -1))
				mark(s, m.manifests[i].digest, live, depth + 1);
	} else {
		rune_strv_append(live, m.config.digest);
		for (size_t i = 0; i < m.n_layers; i++)
			rune_strv_append(live, m.layers[i].digest);
	}
	image_manifest_release(&m);
}

static bool is_live(char **live, const char *digest)
{
	for (char **p = live; p && *p; p++)
		if (strcmp(*p, digest) == 0)
			return true;
	return false;
}

static void sweep_dir(const char *dir, const char *algo, char **live, size_t *removed, uint64_t *bytes)
{
	cleanup_dir DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		cleanup_free char *digest = algo ? xasprintf("%s:%s", algo, e->d_name) : NULL;
		if (digest && is_live(live, digest))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
		    && unlinkat(dirfd(d), e->d_name, 0) == 0) {
			(*removed)++;
			*bytes += st.st_size;
		}
	}
}

int image_store_gc(const struct store *s, size_t *removed, uint64_t *bytes, rune_error_t *err)
{
	struct store_ref *refs = NULL;
	size_t n = 0;
	cleanup_strv char **live = NULL;
	*removed = 0;
	*bytes = 0;
	if (refs_load(s, &refs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		mark(s, refs[i].digest, &live, 0);
	refs_free(refs, n);
	static const char *const algos[] = { "sha256", "sha512" };
	for (size_t i = 0; i < ARRAY_SIZE(algos); i++) {
		cleanup_free char *dir = xasprintf("%s/blobs/%s", s->root, algos[i]);
		sweep_dir(dir, algos[i], live, removed, bytes);
	}
	/* gc holds the store exclusively: every ingest file is abandoned, and
	 * so is a refs.json.tmp-* (a writer killed before its rename). */
	cleanup_free char *ingest = xasprintf("%s/ingest", s->root);
	sweep_dir(ingest, NULL, NULL, removed, bytes);
	cleanup_strv char **tmps = NULL;
	refs_tmp_files(s, &tmps);
	for (char **p = tmps; p && *p; p++)
		if (unlink(*p) == 0)
			(*removed)++;
	return 0;
}

static void problem(char ***v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(char ***v, const char *fmt, ...)
{
	va_list ap;
	cleanup_free char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	rune_strv_append(v, s);
}

/* fsck: does the file's content hash to the digest its name says? */
static int blob_matches(int dirfd, const char *name, const char *digest, uint64_t *size, char **why)
{
	cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*why = xasprintf("blob %s: not a readable regular file", digest);
		return -1;
	}
	struct digester *d = image_digester_new(digest);
	if (d == NULL) {
		*why = xasprintf("blob %s: not a digest", digest);
		return -1;
	}
	cleanup_free char *buf = xmalloc(1 << 16);
	ssize_t n;
	while ((n = read(fd, buf, 1 << 16)) > 0)
		image_digester_update(d, buf, n);
	cleanup_free char *got = image_digester_final(d);
	image_digester_free(d);
	*size = st.st_size;
	if (n < 0)
		*why = xasprintf("blob %s: read: %s", digest, strerror(errno));
	else if (strcmp(got, digest) != 0)
		*why = xasprintf("blob %s: its content is %s", digest, got);
	return n < 0 || strcmp(got, digest) != 0 ? -1 : 0;
}

static void fsck_blobs(const struct store *s, const char *algo, struct image_fsck *out)
{
	cleanup_free char *dir = xasprintf("%s/blobs/%s", s->root, algo);
	cleanup_dir DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		cleanup_free char *digest = xasprintf("%s:%s", algo, e->d_name);
		cleanup_free char *why = NULL;
		uint64_t size = 0;
		out->blobs++;
		if (blob_matches(dirfd(d), e->d_name, digest, &size, &why) < 0)
			rune_strv_append(&out->problems, why);
		out->bytes += size;
	}
}

/* Every blob a reference needs is there: the manifest (each present platform
 * manifest of an index, at least one), its config and layers at their sizes. */
static void fsck_reach(const struct store *s, const char *name, const char *digest, int depth, struct image_fsck *out)
{
	cleanup_free char *body = NULL;
	cleanup_error rune_error_t err = NULL;
	struct manifest m;
	if (!image_store_has(s, digest, -1)) {
		problem(&out->problems, "image %s: manifest %s is missing", name, digest);
		return;
	}
	if (depth > 4 || image_store_read_blob(s, digest, MANIFEST_MAX, &body, NULL, &err) < 0) {
		problem(&out->problems, "image %s: %s", name, err ? err->msg : "nested too deep");
		return;
	}
	if (image_manifest_parse(body, NULL, digest, &m, &err) < 0) {
		problem(&out->problems, "image %s: %s", name, err->msg);
		image_manifest_release(&m);
		return;
	}
	size_t present = 0;
	for (size_t i = 0; m.kind == MANIFEST_INDEX && i < m.n_manifests; i++)
		if (image_store_has(s, m.manifests[i].digest, -1)) {
			present++;
			fsck_reach(s, name, m.manifests[i].digest, depth + 1, out);
		}
	if (m.kind == MANIFEST_INDEX && present == 0)
		problem(&out->problems, "image %s: no manifest of index %s is stored", name, digest);
	for (size_t i = 0; m.kind == MANIFEST_IMAGE && i < 1 + m.n_layers; i++) {
		const struct descriptor *d = i == 0 ? &m.config : &m.layers[i - 1];
		if (!image_store_has(s, d->digest, d->size))
			problem(&out->problems, "image %s: %s %s (%lld bytes) of manifest %s is missing", name,
			        i == 0 ? "config" : "layer", d->digest, (long long) d->size, digest);
	}
	image_manifest_release(&m);
}

int image_store_fsck(const struct store *s, struct image_fsck *out, rune_error_t *err)
{
	struct store_ref *refs = NULL;
	size_t n = 0;
	memset(out, 0, sizeof(*out));
	fsck_blobs(s, "sha256", out);
	fsck_blobs(s, "sha512", out);
	if (refs_load(s, &refs, &n, err) < 0)
		problem(&out->problems, "%s", (*err)->msg);
	rune_error_release(err);
	out->refs = n;
	cleanup_strv char **live = NULL;
	for (size_t i = 0; i < n; i++) {
		fsck_reach(s, refs[i].name, refs[i].digest, 0, out);
		mark(s, refs[i].digest, &live, 0);
	}
	refs_free(refs, n);
	static const char *const algos[] = { "sha256", "sha512" };
	for (size_t i = 0; i < ARRAY_SIZE(algos); i++) {
		cleanup_free char *dir = xasprintf("%s/blobs/%s", s->root, algos[i]);
		cleanup_dir DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			cleanup_free char *digest = xasprintf("%s:%s", algos[i], e->d_name);
			if (e->d_name[0] != '.' && !is_live(live, digest))
				out->unreferenced++;
		}
	}
	cleanup_free char *ingest = xasprintf("%s/ingest", s->root);
	cleanup_dir DIR *d = opendir(ingest);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			problem(&out->debris, "%s/%s", ingest, e->d_name);
	refs_tmp_files(s, &out->debris);
	return 0;
}
