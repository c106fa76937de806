/* Simple-signing (GPG) verification through gpgme, in a private temporary
 * keyring holding only the policy's keys — never the user's. */
#ifndef RUNE_IMAGE_GPG_H
#define RUNE_IMAGE_GPG_H

#include <stddef.h>

#include "error.h"
#include "policy.h"

struct gpg_verifier;

/* Does data look like OpenPGP public key material (armored or binary
 * packets)? Fails naming what it looks like instead. */
int image_gpg_check_key(const unsigned char *data, size_t len, rune_error_t *err);
/* A keyring with keys imported (each must yield at least one key). */
int image_gpg_verifier_new(const struct trust_blob *keys, size_t n, struct gpg_verifier **out, rune_error_t *err);
/* Verify an OpenPGP signed message (not detached, not cleartext) made by one
 * of the keys; *payload (at most max bytes) is what it signs, *signer the
 * signing key's fingerprint. -1 with *why when it is not such a signature. */
int image_gpg_verify(struct gpg_verifier *v, const unsigned char *sig, size_t len, size_t max, char **payload,
                     size_t *plen, char **signer, char **why);
/* Remove the keyring. */
void image_gpg_verifier_free(struct gpg_verifier *v);

/* A GPG secret key export (what `gpg --export-secret-keys` writes), with the
 * password that unlocks it, if any. */
struct gpg_secret {
	const char *name;
	const unsigned char *data;
	size_t len;
	const char *password;
};

/* Decrypt an OpenPGP message with one of keys, each tried in a private
 * temporary keyring of its own (whose gpg-agent is stopped afterwards).
 * *out (at most max bytes) is the plaintext, *by the name of the key that
 * opened it; -1 with *why when none did. */
int image_gpg_decrypt(const struct gpg_secret *keys, size_t n, const unsigned char *msg, size_t len, size_t max,
                      char **out, size_t *out_len, const char **by, char **why);

#endif
