/* rune-kbs, the development Key Broker Service: Trustee's KBS protocol 0.4.0
 * (server side) with verifiers for the simulation and for Trustee's sample
 * TEE, resources in a directory, a JSON resource policy, ES256 tokens. */
#ifndef RUNE_KBS_H
#define RUNE_KBS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "error.h"

#define KBS_VERSION      "0.4.0"
#define KBS_SESSIONS_MAX 4096

struct kbs_config {
	const char *listen;     /* host:port */
	const char *repository; /* resources as <repo>/<type>/<tag> files */
	const char *policy_file;
	const char *admin_key_file; /* Ed25519 or P-256 public key (PEM) */
	const char *sim_key_file;   /* the simulation's public key (PEM) */
	const char *tls_cert, *tls_key;
	bool allow_sample;   /* Trustee's insecure development TEE */
	bool insecure_admin; /* admin API without a token (development only) */
	long session_ttl, token_ttl;
};

/* Claims a verifier extracted from evidence it accepted. */
struct kbs_claims {
	char tee[16];
	char measurement[129]; /* hex, or "" */
	char init_data[129];   /* hex digest of the init-data, or "" */
	char init_data_alg[8];
	bool simulation;
	/* The image the enclave verified, bound by additional-evidence: its
	 * repository (reference without tag or digest) and manifest digest. */
	char image_repository[256];
	char image_digest[80];
};

struct kbs {
	struct kbs_config cfg;
	EVP_PKEY *sim_key, *admin_key;
	json_t *token_key; /* ES256 private JWK, made at start */
	json_t *policy;    /* the resource policy (kbs_policy_check reads it) */
	char *policy_text;
	pthread_mutex_t lock; /* sessions and policy */
	struct kbs_session *sessions;
	size_t n_sessions;
};

struct kbs_session {
	char id[33];
	char nonce[45];
	char tee[16];
	time_t created;
	bool attested;
	json_t *pubkey; /* tee-pubkey once attested */
	struct kbs_claims claims;
};

/* Verify evidence (the /attest body's tee-evidence) for the session's tee,
 * its nonce and the body's tee-pubkey and init-data. On refusal the error
 * says which check failed. */
int kbs_verify(struct kbs *k, const char *tee, const char *nonce, json_t *attestation, struct kbs_claims *claims,
               rune_error_t *err);

/* The resource policy: load (strictly; errors name the file and JSON path)
 * and decide. A denial names the rule and the claim that failed. */
int kbs_policy_load(const char *text, size_t len, const char *what, json_t **out, rune_error_t *err);
int kbs_policy_check(const json_t *policy, const char *path, const struct kbs_claims *c, rune_error_t *err);

/* An ES256 JWT over the claims; the client's tee-pubkey at
 * submods.cpu0["ear.veraison.annotated-evidence"].runtime_data_claims. */
char *kbs_token_issue(struct kbs *k, const struct kbs_claims *c, const char *nonce, json_t *pubkey);
/* Check one of our tokens (signature, exp); its claims and tee-pubkey. */
int kbs_token_check(struct kbs *k, const char *jwt, struct kbs_claims *c, json_t **pubkey, rune_error_t *err);
/* Check an admin's bearer token (EdDSA or ES256 with the admin key, exp). */
int kbs_admin_check(struct kbs *k, const char *jwt, rune_error_t *err);

/* Serve until SIGINT/SIGTERM. */
int kbs_serve(struct kbs *k, rune_error_t *err);

#endif
