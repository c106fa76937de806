/* The Sigstore bundle (protobuf-specs, JSON form; media types v0.1–v0.3), as
 * cosign 3 attaches it to an image: parsed, not yet trusted. */
#ifndef RUNE_IMAGE_SIGBUNDLE_H
#define RUNE_IMAGE_SIGBUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_SIGSTORE_BUNDLE_V03 "application/vnd.dev.sigstore.bundle.v0.3+json"

struct bundle_tlog {
	char *kind, *version;
	char *body_b64;
	int64_t integrated_time, log_index;
	char *log_id_hex;
	unsigned char *set; /* inclusionPromise.signedEntryTimestamp; NULL without one */
	size_t set_len;
};

struct sig_bundle {
	char *key_hint;      /* publicKey.hint, when signed with a key */
	unsigned char *cert; /* the signing certificate (DER), when keyless or PKI */
	size_t cert_len;
	unsigned char **chain; /* further certificates of x509CertificateChain (DER) */
	size_t *chain_len, n_chain;
	struct bundle_tlog *tlogs;
	size_t n_tlogs;
	bool dsse;
	/* messageSignature */
	unsigned char *digest; /* messageDigest.digest (SHA2_256) */
	size_t digest_len;
	/* dsseEnvelope */
	char *payload_type;
	unsigned char *payload;
	size_t payload_len;
	unsigned char *signature; /* either kind's */
	size_t sig_len;
};

/* Is mt a bundle media type we read? */
bool image_bundle_media_type(const char *mt);
/* Parse a bundle; *why says what is wrong. */
int image_bundle_parse(const char *json, size_t len, struct sig_bundle *b, char **why);
void image_bundle_release(struct sig_bundle *b);
/* DSSE's pre-authentication encoding of the envelope's payload. */
unsigned char *image_dsse_pae(const char *type, const unsigned char *payload, size_t len, size_t *out_len);

#endif
