/* The content store: blobs by digest under <root>/blobs/<algo>/<hex>,
 * written through <root>/ingest and renamed into place only once verified,
 * so a blob is never seen half-written or wrong, whatever kills the writer;
 * references (names to manifest digests) in <root>/refs.json. Concurrent
 * pulls share it; gc waits until no pull is running. */
#ifndef RUNE_IMAGE_STORE_H
#define RUNE_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "image.h"

#define STORE_DEFAULT_ROOT "/var/lib/rune/images"

struct store;

struct ingest {
	int fd;
	char *tmp, *digest;
	int64_t size, written;
	struct digester *d;
};

struct store_ref {
	char *name, *digest, *media_type;
	int64_t size;
	char *pulled; /* RFC 3339 */
};

/* Open (creating) a store; gc asks for it exclusively and waits for pulls. */
int image_store_open(const char *root, bool exclusive, struct store **out, rune_error_t *err);
void image_store_close(struct store *s);
/* Path of a blob (whether or not it is there). */
char *image_store_blob_path(const struct store *s, const char *digest);
/* Is the blob there with this size (size < 0: any)? */
bool image_store_has(const struct store *s, const char *digest, int64_t size);
/* Open a blob for reading. */
int image_store_open_blob(const struct store *s, const char *digest, int *fd, rune_error_t *err);
/* Read a small blob (at most max bytes) and check its digest. */
int image_store_read_blob(const struct store *s, const char *digest, size_t max, char **buf, size_t *len,
                          rune_error_t *err);
/* Store a small blob, checking its digest first. */
int image_store_write_blob(const struct store *s, const char *digest, const void *data, size_t len, rune_error_t *err);
/* Write a blob as it streams in; commit checks size and digest and renames. */
int image_store_ingest_begin(const struct store *s, const char *digest, int64_t size, struct ingest *in,
                             rune_error_t *err);
int image_store_ingest_write(struct ingest *in, const void *buf, size_t n, rune_error_t *err);
/* Drop what was written (a download that must start over). */
void image_store_ingest_restart(struct ingest *in);
int image_store_ingest_commit(const struct store *s, struct ingest *in, rune_error_t *err);
/* Remove the temporary file; safe after commit. */
void image_store_ingest_release(struct ingest *in);
/* References. */
int image_store_ref_set(const struct store *s, const struct store_ref *ref, rune_error_t *err);
int image_store_ref_get(const struct store *s, const char *name, struct store_ref *out, rune_error_t *err);
int image_store_ref_del(const struct store *s, const char *name, rune_error_t *err);
int image_store_refs(const struct store *s, struct store_ref **out, size_t *n, rune_error_t *err);
void image_store_ref_release(struct store_ref *r);
/* Check every blob against its digest and every reference down to its
 * layers; needs the store exclusively (as gc). */
int image_store_fsck(const struct store *s, struct image_fsck *out, rune_error_t *err);
/* Remove every blob no reference reaches, and abandoned ingests. */
int image_store_gc(const struct store *s, size_t *removed, uint64_t *bytes, rune_error_t *err);

#endif
