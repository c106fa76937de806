/* Sigstore's cryptography through OpenSSL: public keys (ECDSA P-256/384/521,
 * RSA, Ed25519), signature checks, and certificates verified to a Fulcio CA
 * or a user's PKI with the identity they carry. */
#ifndef RUNE_IMAGE_SIGSTORE_H
#define RUNE_IMAGE_SIGSTORE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"
#include "policy.h"

/* Policy-load checks: a PEM public key (ECDSA only for a Rekor key); PEM
 * certificates (at least one). */
int image_sigstore_check_public_key(const unsigned char *pem, size_t len, bool ecdsa_only, rune_error_t *err);
int image_sigstore_check_certificates(const unsigned char *pem, size_t len, rune_error_t *err);

/* A PEM "PUBLIC KEY" (SubjectPublicKeyInfo), or NULL. */
EVP_PKEY *image_sigstore_public_key(const unsigned char *pem, size_t len);
/* Is sig a signature of msg by k? ECDSA (DER) with SHA-256, or the curve's
 * own hash for P-384/P-521; RSA PKCS#1 v1.5 or PSS with SHA-256; Ed25519. */
bool image_sigstore_verify(EVP_PKEY *k, const void *msg, size_t len, const unsigned char *sig, size_t siglen);
/* The same over a SHA-256 digest of the message (not possible for Ed25519). */
bool image_sigstore_verify_sha256(EVP_PKEY *k, const unsigned char digest[32], const unsigned char *sig, size_t siglen);
/* k's SubjectPublicKeyInfo, DER. */
int image_sigstore_key_der(EVP_PKEY *k, unsigned char **der, size_t *len);

/* The one certificate in a PEM text (or NULL, *why saying why). */
X509 *image_cert_from_pem(const unsigned char *pem, size_t len, char **why);
/* Every certificate in a PEM text (NULL if none parse). */
STACK_OF(X509) * image_certs_from_pem(const unsigned char *pem, size_t len);
/* Verify leaf to one of roots (trusted, as Go does even when not self-signed)
 * through untrusted intermediates, at time at, for code signing. */
int image_cert_verify(X509 *leaf, const struct trust_blob *roots, STACK_OF(X509) * untrusted, time_t at, char **why);
/* Fulcio's identity: the OIDC issuer extension (1.3.6.1.4.1.57264.1.8, or the
 * legacy .1.1) equal to issuer, and email among the SAN emails. */
int image_cert_check_fulcio(X509 *leaf, const char *issuer, const char *email, char **why);
/* A PKI identity: SAN email and/or DNS name. */
int image_cert_check_pki(X509 *leaf, const char *email, const char *hostname, char **why);
/* "a certificate for alice@example.com (issued by fulcio)", for messages. */
char *image_cert_describe(X509 *cert);

#endif
