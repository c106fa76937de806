/* Unpacking an image into a bundle: the image resolved from the store (or
 * pulled), each layer applied as soon as the fetch pool has it, in order,
 * through digest -> decompress -> diff_id -> untar into a staging directory
 * that becomes the bundle's rootfs only when every layer verified. Memory
 * stays a few buffers per layer whatever the image's size. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "decrypt.h"
#include "cleanup.h"
#include "fetch.h"
#include "fs.h"
#include "log.h"
#include "resolve.h"
#include "trust.h"
#include "stream.h"
#include "unpack.h"
#include "util.h"

/* Is the stored ciphertext of d not what its HMAC says? Then *err says so. */
static bool ciphertext_altered(struct image_ctx *c, const struct descriptor *d, const struct layer_secret *secret,
                               rune_error_t *err)
{
	int fd;
	cleanup_error rune_error_t check = NULL;
	if (image_store_open_blob(c->store, d->digest, &fd, &check) < 0)
		return false;
	cleanup_free char *what = xasprintf("layer %s", d->digest);
	struct reader *rd = image_reader_decrypt(image_reader_fd(fd), secret->key, secret->nonce, secret->hmac, what);
	int rc = image_reader_drain(rd, &check);
	image_reader_free(rd);
	if (rc == 0)
		return false;
	rune_error_release(err);
	rune_error_move(err, &check);
	return true;
}

/* One layer from the store through digest -> [decrypt -> plaintext digest]
 * -> decompress -> diff_id -> untar. What an encrypted layer unpacks is kept
 * (the staging tree renamed) only when every stage ended without error: the
 * HMAC, then the plaintext digest, then the diff_id. */
static int apply_layer(struct image_ctx *c, const struct resolved *r, size_t i, const struct layer_secret *secret,
                       const char *dir, enum unpack_mode mode, char *const *lowers, rune_error_t *err)
{
	const struct descriptor *d = &r->m.layers[i];
	enum compression comp;
	bool encrypted;
	int fd;
	if (image_layer_compression(d, &comp, &encrypted, err) < 0
	    || image_store_open_blob(c->store, d->digest, &fd, err) < 0)
		return -1;
	cleanup_free char *what = xasprintf("layer %s", d->digest);
	cleanup_free char *what_u = xasprintf("layer %s (uncompressed, diff_id %s)", d->digest, r->cfg.diff_ids[i]);
	struct reader *rd = image_reader_fd(fd);
	rd = image_reader_digest(rd, d->digest, d->size, what);
	if (encrypted) {
		cleanup_free char *what_p = xasprintf("layer %s (decrypted, digest %s)", d->digest, secret->digest);
		rd = image_reader_decrypt(rd, secret->key, secret->nonce, secret->hmac, what);
		/* The wrapped digest names the compressed plaintext — or, where skopeo
		 * recompressed while encrypting, the uncompressed one: then the
		 * diff_id stage below checks it. */
		if (strcmp(secret->digest, r->cfg.diff_ids[i]) != 0)
			rd = image_reader_digest(rd, secret->digest, -1, what_p);
	}
	rd = image_reader_decompress(rd, comp, what);
	rd = image_reader_digest(rd, r->cfg.diff_ids[i], -1, what_u);
	int rc = image_unpack_layer(rd, dir, mode, lowers, what, err);
	image_reader_free(rd);
	/* A later stage (gzip's CRC, zstd's checksum, tar) may stop on altered
	 * ciphertext before the end where the HMAC is compared: name the cause. */
	if (rc < 0 && encrypted && ciphertext_altered(c, d, secret, err))
		return -1;
	if (rc == 0)
		image_report_progress(c, d->digest, d->size, d->size, PROGRESS_UNPACKED);
	return rc;
}

#define UNPACKING_MARK ".rune-image-unpacking"

/* What an unpack killed half-way left in the bundle (the mark says one
 * was running): its staging directories, config.json's temporary file and
 * whatever it had put in place. */
static int remove_interrupted(int dfd, const char *bundle, rune_error_t *err)
{
	static const char *const ours[] = { "rootfs", "layers", "config.json", UNPACKING_MARK };
	cleanup_dir DIR *d = fdopendir(dup(dfd));
	struct dirent *e;
	if (d)
		rewinddir(d); /* the offset is shared with dfd's other readers */
	while (d && (e = readdir(d)) != NULL)
		if ((strncmp(e->d_name, ".unpack-", 8) == 0 || strncmp(e->d_name, "config.json.tmp-", 16) == 0)
		    && rune_remove_tree_at(dfd, e->d_name, err) < 0)
			return rune_error_wrap(err, "bundle %s: remove an interrupted unpack", bundle);
	for (size_t i = 0; i < ARRAY_SIZE(ours); i++)
		if (rune_remove_tree_at(dfd, ours[i], err) < 0)
			return rune_error_wrap(err, "bundle %s: remove an interrupted unpack", bundle);
	log_debug("bundle %s: removed what an interrupted unpack left", bundle);
	return 0;
}

/* The bundle, locked for this unpack (*lock_fd) and marked as being
 * written until the unpack completes, so that one killed half-way is
 * recognised and cleared by the next, and never taken for a bundle. */
static int prepare_bundle(const char *bundle, int *lock_fd, rune_error_t *err)
{
	static const char *const taken[] = { "rootfs", "layers", "config.json" };
	if (rune_mkdir_p(bundle, 0755, err) < 0)
		return rune_error_wrap(err, "bundle");
	*lock_fd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*lock_fd < 0)
		return rune_error(err, errno, "bundle %s", bundle);
	if (flock(*lock_fd, LOCK_EX | LOCK_NB) < 0)
		return rune_error(err, errno, "bundle %s: another unpack is writing it", bundle);
	if (faccessat(*lock_fd, UNPACKING_MARK, F_OK, AT_SYMLINK_NOFOLLOW) == 0
	    && remove_interrupted(*lock_fd, bundle, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(taken); i++) {
		struct stat st;
		if (fstatat(*lock_fd, taken[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			return rune_error(err, EEXIST, "bundle %s: %s already exists", bundle, taken[i]);
	}
	int fd = openat(*lock_fd, UNPACKING_MARK, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return rune_error(err, errno, "bundle %s: create %s", bundle, UNPACKING_MARK);
	close(fd);
	return 0;
}

static int unpack_all(struct image_ctx *c, struct fetch *f, const struct resolved *r,
                      const struct layer_secret *secrets, const char *staging, bool layers, rune_error_t *err)
{
	cleanup_strv char **lowers = NULL;
	for (size_t i = 0; i < r->m.n_layers; i++) {
		if (image_fetch_wait(f, i, err) < 0)
			return -1;
		cleanup_free char *dir = layers ? xasprintf("%s/%03zu", staging, i) : xstrdup(staging);
		if (layers && mkdir(dir, 0755) < 0)
			return rune_error(err, errno, "mkdir %s", dir);
		if (apply_layer(c, r, i, &secrets[i], dir, layers ? UNPACK_OVERLAY : UNPACK_FLAT, lowers, err) < 0)
			return -1;
		if (layers) {
			/* Lower layers are searched top first. */
			char **nl = NULL;
			rune_strv_append(&nl, dir);
			for (char **l = lowers; l && *l; l++)
				rune_strv_append(&nl, *l);
			cleanup_strvp(&lowers);
			lowers = nl;
		}
	}
	return 0;
}

/* The image from the store when it has it (as a container engine uses what
 * it has), else through the registry (*client is then set). */
static int resolve_for_unpack(struct image_ctx *c, const char *refstr, struct resolved *r,
                              struct registry_client **client, rune_error_t *err)
{
	cleanup_error rune_error_t local = NULL;
	if (image_resolve_local(c, refstr, true, r, &local) == 0) {
		for (size_t i = 0; i < r->m.n_layers; i++)
			if (!image_store_has(c->store, r->m.layers[i].digest, r->m.layers[i].size))
				return rune_error(err, ENOENT,
				                  "layer %s of %s is missing from the store (pull the image again)",
				                  r->m.layers[i].digest, r->name);
		return 0;
	}
	image_resolved_release(r);
	if (local->status != ENOENT)
		return rune_error_move(err, &local);
	if (image_resolve_client(c, refstr, client, err) < 0)
		return -1;
	return image_resolve_remote(c, *client, refstr, r, err);
}

/* Every layer into staging, which then becomes final (rootfs, or layers/
 * beside an empty rootfs for overlayfs). */
static int unpack_staged(struct image_ctx *c, struct registry_client *client, const struct resolved *r,
                         const struct layer_secret *secrets, const char *staging, const char *final, bool layers,
                         struct image_result *res, rune_error_t *err)
{
	struct fetch f;
	image_fetch_start(&f, c, client, &r->m);
	int rc = unpack_all(c, &f, r, secrets, staging, layers, err);
	image_fetch_finish(&f, res);
	if (rc < 0)
		return -1;
	if (rename(staging, final) < 0)
		return rune_error(err, errno, "rename %s to %s", staging, final);
	if (layers) {
		cleanup_free char *rootfs = xasprintf("%s/../rootfs", final);
		if (mkdir(rootfs, 0755) < 0)
			return rune_error(err, errno, "mkdir %s", rootfs);
	}
	return 0;
}

/* Into a prepared bundle; on failure the caller clears it. */
static int unpack_into(struct image_ctx *c, const char *refstr, const char *bundle, bool layers,
                       struct image_result *res, rune_error_t *err)
{
	cleanup_registry_client struct registry_client *client = NULL;
	cleanup_resolved struct resolved r = { 0 };
	struct layer_secret *secrets = NULL;
	/* Every encrypted layer's key is opened before the first byte is fetched. */
	if (resolve_for_unpack(c, refstr, &r, &client, err) < 0 || image_layers_open(c, &r.m, &secrets, err) < 0)
		return -1;
	cleanup_free char *abs = realpath(bundle, NULL);
	cleanup_free char *staging = abs ? xasprintf("%s/.unpack-XXXXXX", abs) : NULL;
	if (abs == NULL || mkdtemp(staging) == NULL) {
		image_layer_secrets_free(secrets, r.m.n_layers);
		return rune_error(err, errno, "bundle %s: create a staging directory", bundle);
	}
	chmod(staging, 0755);
	cleanup_free char *final = xasprintf("%s/%s", abs, layers ? "layers" : "rootfs");
	int rc = unpack_staged(c, client, &r, secrets, staging, final, layers, res, err);
	image_layer_secrets_free(secrets, r.m.n_layers);
	if (rc < 0 || image_bundle_write_config(&r, abs, final, err) < 0
	    || (client && image_resolved_record(c, &r, err) < 0))
		return -1;
	image_resolved_result(&r, client, res);
	return 0;
}

int image_unpack(struct image_ctx *c, const char *refstr, const char *bundle, bool layers, struct image_result *res,
                 rune_error_t *err)
{
	cleanup_close int lock_fd = -1;
	if (res)
		memset(res, 0, sizeof(*res));
	if (image_trust_load(c, err) < 0 || prepare_bundle(bundle, &lock_fd, err) < 0)
		return -1;
	if (unpack_into(c, refstr, bundle, layers, res, err) < 0) {
		/* Nothing that looks complete stays behind, and nothing unauthenticated. */
		remove_interrupted(lock_fd, bundle, NULL);
		return rune_error_wrap(err, "unpack into %s", bundle);
	}
	/* Complete: config.json and the tree are in place. */
	if (unlinkat(lock_fd, UNPACKING_MARK, 0) < 0)
		return rune_error(err, errno, "bundle %s: remove %s", bundle, UNPACKING_MARK);
	return 0;
}
