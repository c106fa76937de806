/* Opening encrypted layers (decrypt.c): the keys a user or embedder gives,
 * ocicrypt's wrapping schemes (JWE through libjose, PKCS7 through OpenSSL's
 * CMS, PGP through gpgme, key providers), and what an opened layer key holds.
 * The stream stage itself is image_reader_decrypt (stream.h). */
#ifndef RUNE_IMAGE_DECRYPT_H
#define RUNE_IMAGE_DECRYPT_H

#include <stdbool.h>
#include <yajl/yajl_gen.h>

#include "error.h"
#include "image_ctx.h"
#include "manifest.h"

#define ENC_ANNOTATION_PREFIX "org.opencontainers.image.enc.keys."
#define ENC_PUBOPTS           "org.opencontainers.image.enc.pubopts"

/* An opened layer key: what image_reader_decrypt needs, and the digest of
 * the compressed plaintext the wrapped options name. Wipe after use. */
struct layer_secret {
	unsigned char key[32], nonce[16], hmac[32];
	char *digest;
	char *opened_by; /* "jwe, --decryption-key /k/rsa.pem" */
};

/* Open the key of encrypted layer d with the context's keys (loaded on first
 * use), key providers and unwrap callback; the error names the layer, the
 * schemes it offers and every key tried. */
int image_layer_open(struct image_ctx *c, const struct descriptor *d, struct layer_secret *s, rune_error_t *err);
/* Open the key of every encrypted layer of m, before any is fetched:
 * (*out)[i].digest is NULL for a layer that is not encrypted. */
int image_layers_open(struct image_ctx *c, const struct manifest *m, struct layer_secret **out, rune_error_t *err);
void image_layer_secrets_free(struct layer_secret *s, size_t n);
/* Zero the key material and free the strings. */
void image_layer_secret_wipe(struct layer_secret *s);
/* Are any keys, providers or a callback there to open layers with? */
int image_decryption_available(struct image_ctx *c, bool *available, rune_error_t *err);
/* For inspect: how d is encrypted (schemes and recipients, no secrets). */
void image_layer_encryption_json(const struct descriptor *d, yajl_gen g);
/* Release what the context loaded. */
void image_decrypt_release(struct image_ctx *c);

#endif
