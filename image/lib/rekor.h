/* Rekor transparency-log entries as signatures carry them: the signed entry
 * timestamp (SET, an "inclusion promise") verified with the policy's Rekor
 * keys, and the logged body matched against the signature at hand. */
#ifndef RUNE_IMAGE_REKOR_H
#define RUNE_IMAGE_REKOR_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* A log entry whose SET verified. */
struct rekor_entry {
	int64_t integrated_time, log_index;
	char *log_id;    /* hex: SHA-256 of the log's public key */
	char *body;      /* the canonicalized body, decoded (JSON) */
	const char *key; /* the name of the Rekor key that verified it */
};

/* Verify a SET over {body, integratedTime, logID, logIndex} (canonical JSON,
 * RFC 8785) with one of keys. body_b64 is the entry body as logged. */
int image_rekor_verify_promise(const struct trust_blob *keys, size_t n, const char *body_b64, int64_t integrated_time,
                               int64_t log_index, const char *log_id_hex, const unsigned char *set, size_t set_len,
                               struct rekor_entry *out, char **why);
/* cosign's "dev.sigstore.cosign/bundle" annotation:
 * {"SignedEntryTimestamp": b64, "Payload": {"body", "integratedTime", "logIndex", "logID"}}. */
int image_rekor_verify_cosign_set(const struct trust_blob *keys, size_t n, const char *json, struct rekor_entry *out,
                                  char **why);
/* The body is a hashedrekord 0.0.1 entry for this signature: signed by the
 * key or certificate whose DER is key_der, signature sig, over a payload
 * whose SHA-256 is payload_sha256. */
int image_rekor_check_hashedrekord(const struct rekor_entry *e, const unsigned char *key_der, size_t der_len,
                                   const unsigned char *sig, size_t sig_len, const unsigned char payload_sha256[32],
                                   char **why);
/* The body is a dsse 0.0.1 entry with exactly this one signature by key_der,
 * over a payload whose SHA-256 is payload_sha256. */
int image_rekor_check_dsse(const struct rekor_entry *e, const unsigned char *key_der, size_t der_len,
                           const unsigned char *sig, size_t sig_len, const unsigned char payload_sha256[32],
                           char **why);
void image_rekor_entry_release(struct rekor_entry *e);

#endif
