/* The stages a layer streams through: each a reader over the one before,
 * so decryption can slot in between the digest check and decompression:
 *   fd -> digest(compressed, size) -> [decrypt] -> decompress -> digest(diff_id) -> untar
 * A digest stage fails at end of stream when the bytes were not the ones
 * named, and as soon as there are more of them than the descriptor said. */
#ifndef RUNE_IMAGE_STREAM_H
#define RUNE_IMAGE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "manifest.h"

/* Incremental sha256 / sha512, named by the digest it must match. */
struct digester;
/* A digester for digest's algorithm ("sha256:..." or "sha512:..."); NULL if unknown. */
struct digester *image_digester_new(const char *digest);
void image_digester_update(struct digester *d, const void *buf, size_t n);
/* "algo:hex" of what was fed; the digester can be fed no more. */
char *image_digester_final(struct digester *d);
/* Start over. */
void image_digester_reset(struct digester *d);
void image_digester_free(struct digester *d);
/* Compare digest of data with want; error names what. */
int image_digest_check(const void *data, size_t len, const char *want, const char *what, rune_error_t *err);

struct reader {
	/* Up to cap bytes into buf; *got 0 means end of stream. */
	int (*read)(struct reader *r, void *buf, size_t cap, size_t *got, rune_error_t *err);
	void (*free)(struct reader *r);
};

/* Read fd (owned: closed by free). */
struct reader *image_reader_fd(int fd);
/* Check src's bytes against digest and (size >= 0) size; what names it in errors. Owns src. */
struct reader *image_reader_digest(struct reader *src, const char *digest, int64_t size, const char *what);
/* Decompress src (gzip, possibly multi-member; zstd; or pass through). Owns src. */
struct reader *image_reader_decompress(struct reader *src, enum compression c, const char *what);
/* Decrypt src (AES-256-CTR; the 16-byte nonce is the whole initial counter
 * block) while computing HMAC-SHA256 with the same key over the ciphertext;
 * at the end of the stream the HMAC must equal hmac (constant-time compare).
 * Plaintext released before then is unauthenticated: what a later stage
 * makes of it must not be kept unless the stream ends without error. Owns
 * src; the key schedule is wiped when the reader is freed. */
struct reader *image_reader_decrypt(struct reader *src, const unsigned char key[32], const unsigned char nonce[16],
                                    const unsigned char hmac[32], const char *what);
/* Read until end, discarding (so the digest stages see every byte). */
int image_reader_drain(struct reader *r, rune_error_t *err);
void image_reader_free(struct reader *r);

#endif
