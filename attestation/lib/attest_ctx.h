/* The attestation context, shared by the library's files. */
#ifndef RUNE_ATTEST_CTX_H
#define RUNE_ATTEST_CTX_H

#include <jansson.h>
#include <openssl/evp.h>

#include "attest.h"
#include "evidence.h"

struct attest_ctx {
	char *url;       /* without a trailing slash */
	char *cert_file; /* pinned CA, or NULL */
	char *root;      /* device path prefix for tests, or NULL */
	const struct evidence_provider *provider;
	json_t *key; /* the ephemeral private JWK */
	json_t *pub; /* tee-pubkey: its public half with "alg" */
	char *initdata;
	size_t initdata_len;
	int connect_attempts;
	long timeout;
	char cookie[80]; /* "kbs-session-id=..." or "" */
	char *token;
	long token_exp;
	char last_error[32]; /* the KBS's error variant of the last refusal ("PolicyDeny") */
	char *additional;    /* additional-evidence to bind, or NULL */
	bool kbs_binds;      /* the KBS's challenge offered image binding */
};

/* SHA (md) of JCS({additional-evidence (or ""), nonce, tee-pubkey}) into the
 * first bytes of rd (64, zero-padded); the digest length in *rd_len. */
int attest_report_data(const json_t *pubkey, const char *nonce, const char *additional, const EVP_MD *md,
                       unsigned char rd[64], size_t *rd_len, rune_error_t *err);
/* The challenge member by which rune-kbs offers image binding. */
#define ATTEST_IMAGE_BINDING "rune-image-binding"
/* Forget the token (wiped). */
void attest_token_release(struct attest_ctx *c);
/* The KBS's answers to auth (the challenge: its nonce, the hash it selects,
 * whether it offers image binding) and to attest (the token and its exp,
 * unverified), read from the body as received; fuzzed by
 * tests/fuzz/fuzz_attest_kbs.c. */
int attest_kbs_challenge(const char *body, size_t len, char **nonce, const EVP_MD **md, bool *binds, rune_error_t *err);
int attest_kbs_token(const char *body, size_t len, char **token, long *exp, rune_error_t *err);

#endif
