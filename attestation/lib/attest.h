/* libruneattest — the attestation agent: TEE evidence and a client of the
 * Key Broker Service protocol (RCAR 0.4.0, as Trustee's KBS speaks it).
 *
 * One context holds the KBS address, the evidence provider, an ephemeral
 * key pair and the session (cookie and token). attest_get_resource() runs
 * the whole handshake when it has no valid session:
 *
 *   POST /kbs/v0/auth   {version, tee, extra-params}    -> nonce, cookie
 *   evidence over SHA-384(JCS({additional-evidence, nonce, tee-pubkey}))
 *   POST /kbs/v0/attest {init-data, runtime-data, tee-evidence} -> token
 *   GET  /kbs/v0/resource/<repo>/<type>/<tag>            -> JWE to our key
 *
 * Every call follows rune's error convention (common/error.h): 0 or -1 and
 * *err naming the step (auth, attest, resource), the URL, the HTTP status
 * and the KBS's own error type and detail; evidence failures name the
 * provider and the file or ioctl. Secrets handed out are wiped by
 * attest_secret_free(); the context wipes its private key when freed.
 *
 * No third-party type appears here: callers need only common/. */
#ifndef RUNE_ATTEST_H
#define RUNE_ATTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct attest_ctx;

/* The evidence providers, in detection order; attest_options.tee names one. */
#define ATTEST_TEES "sgx, tdx, sim, sample"

/* Exit code a CLI uses when the KBS (or the policy it applies) refuses. */
#define ATTEST_EXIT_DENIED 3

struct attest_options {
	/* KBS base URL ("http://127.0.0.1:8080"); NULL: the URL of
	 * aa_kbc_params ("cc_kbc::URL") from $AA_KBC_PARAMS or the kernel
	 * command line's agent.aa_kbc_params=. */
	const char *url;
	/* PEM CA certificate the KBS's TLS certificate must chain to; when
	 * set, only that CA is trusted. NULL: the system's CAs. */
	const char *cert_file;
	/* Evidence provider (one of ATTEST_TEES); NULL: detect. */
	const char *tee;
	/* The init-data document (TOML) sent with the evidence, its digest
	 * bound into the TEE's config-id field; NULL for none. */
	const char *initdata;
	size_t initdata_len;
	/* Ephemeral key the KBS encrypts to: "ec" (P-256, default),
	 * "ec-p521" or "rsa" (3072-bit, RSA-OAEP-256). */
	const char *key_type;
	/* Prefix for the TEE device and configfs paths (/dev/attestation,
	 * /dev/sgx, /sys/kernel/config/tsm/report, ...) so tests can point the
	 * providers at a fake tree; NULL or "": the real ones. */
	const char *root;
	/* Handshake retries while the KBS is unreachable (default 5, 1 s
	 * apart); 0 means the default, negative means none. */
	int connect_attempts;
	/* Per-request timeout in seconds (default 30). */
	long timeout;
};

/* Create a context: picks the evidence provider and makes the ephemeral
 * key. Contacts nobody yet. */
int attest_ctx_new(const struct attest_options *o, struct attest_ctx **out, rune_error_t *err);
/* Free the context, wiping its private key and token. NULL is ignored. */
void attest_ctx_free(struct attest_ctx *c);

/* The provider chosen ("sgx", ...) and the TEE name sent to the KBS. */
const char *attest_provider(const struct attest_ctx *c);
const char *attest_kbs_tee(const struct attest_ctx *c);

/* Attest (unless the token is still valid) and return the token (JWT). */
int attest_token(struct attest_ctx *c, char **token, rune_error_t *err);

/* Fetch a resource: `path` is "repo/type/tag" or a URI
 * "kbs:///repo/type/tag" (the host part is ignored: the configured KBS is
 * used; "kbs+PLUGIN:///..." selects another plugin). Attests first when
 * there is no valid session; on a 401 it attests again (3 attempts). The
 * plaintext comes back in *data (NUL-terminated; free with
 * attest_secret_free), at most max bytes (0: 1 MiB). */
int attest_get_resource(struct attest_ctx *c, const char *path, size_t max, unsigned char **data, size_t *len,
                        rune_error_t *err);

/* Evidence for debugging (`rune-attest evidence`): the report data bound
 * to nonce (a random one if NULL) and this context's key, the
 * primary_evidence the KBS would receive, and the quote's fields when there
 * is a quote, as indented JSON (free with free()). Contacts no KBS. */
int attest_evidence(struct attest_ctx *c, const char *nonce, char **json, rune_error_t *err);

/* Bind the image the agent verified into the evidence: the session ends,
 * and the next request attests again with additional-evidence
 * {"image": {"reference", "manifest_digest"}} inside the report data, so a
 * KBS can release keys for this image only. Done only with a KBS that offers
 * it (rune-kbs says so in its challenge); towards another (a stock Trustee)
 * the session is kept and a warning logged. */
int attest_bind_image(struct attest_ctx *c, const char *reference, const char *manifest_digest, rune_error_t *err);

/* Unwrap an ocicrypt AnnotationPacket (the `attestation-agent` key
 * provider's annotation: kid, wrapped_data, iv, wrap_type A256GCM or
 * A256CTR, v1 or v2): fetch the KEK named by kid from the KBS, decrypt the
 * wrapped layer options into *opts (free with attest_secret_free). */
int attest_unwrap_annotation_packet(struct attest_ctx *c, const char *packet, size_t len, unsigned char **opts,
                                    size_t *opts_len, rune_error_t *err);
/* Wrap layer options for an AnnotationPacket (the encrypting side): kek is
 * 32 bytes, kid the resource URI that will hold it. */
int attest_wrap_annotation_packet(const unsigned char kek[32], const char *kid, const unsigned char *opts,
                                  size_t opts_len, char **packet, rune_error_t *err);

/* Wipe and free a secret this library returned. */
void attest_secret_free(unsigned char *data, size_t len);

#endif
