/* What a signature signs, read strictly: the simple-signing payload ("atomic
 * container signature" for GPG, "cosign container image signature" for
 * sigstore) and the in-toto statement inside a Sigstore DSSE bundle. */
#ifndef RUNE_IMAGE_SIGPAYLOAD_H
#define RUNE_IMAGE_SIGPAYLOAD_H

#include <stddef.h>

#define SIG_TYPE_ATOMIC       "atomic container signature"
#define SIG_TYPE_COSIGN       "cosign container image signature"
#define INTOTO_PAYLOAD_TYPE   "application/vnd.in-toto+json"
#define COSIGN_SIGN_PREDICATE "https://sigstore.dev/cosign/sign/v1"

struct sig_payload {
	char *digest;   /* critical.image.docker-manifest-digest */
	char *identity; /* critical.identity.docker-reference */
};

/* Parse a simple-signing payload whose critical.type must be want_type;
 * unknown members of critical (and of its objects) reject it, unknown
 * members of optional do not. *why says what is wrong. */
int image_sig_payload_parse(const unsigned char *data, size_t len, const char *want_type, struct sig_payload *out,
                            char **why);
void image_sig_payload_release(struct sig_payload *p);

/* One subject of an in-toto statement. */
struct intoto_subject {
	char *name;   /* may be NULL: cosign 3 signs the digest only */
	char *sha256; /* hex */
};

/* Parse an in-toto statement (v0.1 or v1) whose predicateType must be
 * want_predicate (NULL: any). */
int image_intoto_parse(const unsigned char *data, size_t len, const char *want_predicate,
                       struct intoto_subject **subjects, size_t *n, char **why);
void image_intoto_subjects_free(struct intoto_subject *s, size_t n);

#endif
