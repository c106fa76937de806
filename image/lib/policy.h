/* containers-policy.json, read as strictly as containers/image reads it: an
 * unknown field, a wrong type, an empty requirement list or a key that does
 * not parse rejects the whole file, naming it and the JSON path. Keys and
 * CA certificates a policy names by path are read when the policy is (through
 * the caller's reader: inside a TEE a path may name a KBS resource). */
#ifndef RUNE_IMAGE_POLICY_H
#define RUNE_IMAGE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "image.h"
#include "ref.h"

enum policy_req_type {
	REQ_INSECURE_ACCEPT_ANYTHING,
	REQ_REJECT,
	REQ_SIGNED_BY,
	REQ_SIGSTORE_SIGNED,
	REQ_SIGNED_BASE_LAYER, /* parsed as containers/image does; never satisfied (nor there) */
};

enum identity_type {
	ID_MATCH_EXACT,
	ID_MATCH_REPO_DIGEST_OR_EXACT,
	ID_MATCH_REPOSITORY,
	ID_EXACT_REFERENCE,
	ID_EXACT_REPOSITORY,
	ID_REMAP_IDENTITY,
};

/* signedIdentity: which signed docker reference a requirement accepts. */
struct signed_identity {
	enum identity_type type;
	char *reference;              /* exactReference's dockerReference, exactRepository's dockerRepository */
	char *prefix, *signed_prefix; /* remapIdentity */
};

/* Key material a requirement names: its bytes and where they came from
 * ("keyPath /etc/pki/app.gpg", "keyDatas[1]"), for messages. */
struct trust_blob {
	char *name;
	unsigned char *data;
	size_t len;
};

struct policy_req {
	enum policy_req_type type;
	char *where; /* JSON path: transports.docker["example.com/app"][0] */
	struct signed_identity identity;
	struct trust_blob *keys; /* signedBy: GPG keys; sigstoreSigned: PEM public keys */
	size_t n_keys;
	struct trust_blob *rekor_keys; /* PEM ECDSA public keys */
	size_t n_rekor_keys;
	bool fulcio, pki;
	struct trust_blob *ca;            /* fulcio.caPath/caData, pki.caRoots… */
	struct trust_blob *intermediates; /* pki.caIntermediates… (may be NULL) */
	char *oidc_issuer, *subject_email, *subject_hostname;
};

struct policy_reqs {
	struct policy_req *v;
	size_t n;
	char *where; /* "default", transports.docker["scope"] */
};

struct policy_scope {
	char *name;
	struct policy_reqs reqs;
};

struct policy {
	char *source; /* the file (or what the caller named in-memory content) */
	struct policy_reqs def;
	struct policy_scope *docker; /* transports.docker; other transports are checked, then dropped */
	size_t n_docker;
};

/* Load the policy the trust options name: content, --policy FILE, else
 * $HOME/.config/containers/policy.json, else /etc/containers/policy.json. */
int image_policy_load(const struct image_trust *t, struct policy **out, rune_error_t *err);
/* Parse policy content; source names it in errors. */
int image_policy_parse(const char *data, size_t len, const char *source, const struct image_trust *t,
                       struct policy **out, rune_error_t *err);
void image_policy_free(struct policy *p);
/* The requirements for ref: the most specific docker scope, else "default". */
const struct policy_reqs *image_policy_for(const struct policy *p, const struct image_ref *ref);
/* The scopes a docker reference is looked up under, most specific first (as
 * containers/image's docker transport lists them); NULL-terminated. */
char **image_policy_scopes_of(const struct image_ref *ref);
/* A short human name for a requirement: "signedBy (GPG keyPath /k.gpg)". */
char *image_policy_req_summary(const struct policy_req *r);

/* Does a signed docker reference satisfy the identity rule for the image
 * being pulled? signed_ref NULL: the signature names no identity (Sigstore
 * bundles sign only the digest); then only the repository the signature was
 * found in stands for it. *why says why not. */
bool image_identity_matches(const struct signed_identity *id, const struct image_ref *image, const char *signed_ref,
                            char **why);

#endif
