/* JWE (RFC 7516) as ocicrypt and the KBS protocol use it: A256GCM content
 * with the protected header as AAD, the content key wrapped for one key.
 *
 * libjose does the JOSE work (ECDH-ES+A*KW, RSA1_5, A*KW, the content);
 * OpenSSL wraps and unwraps RSA-OAEP and RSA-OAEP-256 because Debian 12's
 * libjose (11, built against OpenSSL 3) has its OAEP code compiled out.
 * Both directions bound what they hold and wipe content keys after use. */
#ifndef RUNE_JWE_H
#define RUNE_JWE_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* Decrypt jwe (general or flattened JSON serialization) with the private key
 * jwk, trying each recipient. Content larger than max bytes is refused.
 * Returns the plaintext (NUL-terminated, free with rune_jwe_free) and its
 * length in *len; NULL with *why set to a short reason otherwise. */
unsigned char *rune_jwe_decrypt(json_t *jwe, const json_t *jwk, size_t max, size_t *len, const char **why);

/* Encrypt data to the public key jwk as a flattened JWE with A256GCM content
 * and, in the protected header, alg and (for ECDH-ES) epk, as Trustee's KBS
 * writes it: `alg` is ECDH-ES+A256KW for EC keys, RSA-OAEP-256 or RSA1_5 for
 * RSA keys (jwk's own "alg" chooses; default RSA-OAEP-256). Returns a new
 * JSON object, or NULL with *err filled. */
json_t *rune_jwe_encrypt(const json_t *jwk, const void *data, size_t len, rune_error_t *err);

/* Wipe and free a plaintext of length len from rune_jwe_decrypt. */
void rune_jwe_free(unsigned char *pt, size_t len);

#endif
