/* The policy decision: each requirement of the scope that applies, against
 * the signatures it asks for, every one verified here before the image's
 * config or any layer is fetched. Semantics are containers/image's (one
 * accepted signature satisfies a requirement; every requirement must be
 * satisfied), extended to Sigstore bundles. */
#include "trust.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "encoding.h"
#include "gpg.h"
#include "log.h"
#include "policy.h"
#include "registries_d.h"
#include "rekor.h"
#include "resolve.h"
#include "sigbundle.h"
#include "sigpayload.h"
#include "sigsource.h"
#include "sigstore.h"
#include "util.h"

/* Signatures fetched once per evaluation, shared by its requirements. */
struct gathered {
	bool done;
	struct sig_list list;
	char *error; /* fetching failed: every requirement needing them fails with this */
};

struct eval {
	struct image_ctx *c;
	const struct trust_subject *s;
	struct registry_client *client; /* s->client, or one made here */
	bool own_client;
	struct sig_storage storage;
	struct gathered simple, sigstore;
};

/* ---- results ---- */

static struct image_sig_check *add_sig_check(struct image_req_check *rc, const char *origin)
{
	rc->sigs = xrealloc(rc->sigs, (rc->n_sigs + 1) * sizeof(*rc->sigs));
	struct image_sig_check *sc = &rc->sigs[rc->n_sigs++];
	memset(sc, 0, sizeof(*sc));
	sc->origin = xstrdup(origin);
	return sc;
}

static bool digest_is_ours(const struct eval *e, const char *digest)
{
	return strcmp(digest, e->s->top_digest) == 0 || strcmp(digest, e->s->manifest_digest) == 0;
}

static char *when(int64_t t)
{
	char buf[32];
	time_t tt = (time_t) t;
	struct tm tm;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
	return xstrdup(buf);
}

/* ---- fetching ---- */

static int need_client(struct eval *e, rune_error_t *err)
{
	if (e->client)
		return 0;
	cleanup_free char *name = image_ref_string(e->s->ref);
	if (image_resolve_client(e->c, name, &e->client, err) < 0)
		return -1;
	e->own_client = true;
	/* The ping says whether the registry offers the signature extension; a
	 * registry out of reach still leaves lookaside storage. */
	cleanup_error rune_error_t ping = NULL;
	if (image_registry_ping(e->client, &ping) < 0)
		log_debug("signatures of %s: registry not reachable (%s); lookaside only", name, ping->msg);
	return 0;
}

static void gather(struct eval *e, struct gathered *g, bool sigstore)
{
	if (g->done)
		return;
	g->done = true;
	cleanup_error rune_error_t err = NULL;
	const char *digests[] = { e->s->top_digest, e->s->manifest_digest };
	size_t n = strcmp(digests[0], digests[1]) == 0 ? 1 : 2;
	int rc = need_client(e, &err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (!sigstore) {
			rc = image_sigs_simple(e->client, e->s->ref, &e->storage, digests[i], &g->list, &err);
			continue;
		}
		if (e->storage.use_attachments != 0)
			rc = image_sigs_cosign(e->client, digests[i], &g->list, &err);
		else if (i == 0) {
			cleanup_free char *note =
			    xasprintf("no cosign signatures read: use-sigstore-attachments is false (%s)",
			              e->storage.attachments_from);
			rune_strv_append(&g->list.looked, note);
		}
		if (rc == 0)
			rc = image_sigs_bundles(e->client, digests[i], &g->list, &err);
	}
	if (rc < 0)
		g->error = xstrdup(err->msg);
}

/* The reason a requirement found nothing to check. */
static char *nothing_found(const struct gathered *g)
{
	if (g->error)
		return xasprintf("reading signatures failed: %s", g->error);
	char *s = xstrdup("no signature");
	for (char **l = g->list.looked; l && *l; l++) {
		char *more = xasprintf("%s%s%s", l == g->list.looked ? "" : s, l == g->list.looked ? "" : "; ", *l);
		free(s);
		s = more;
	}
	return s;
}

/* ---- simple signing ---- */

static bool check_simple(struct eval *e, const struct policy_req *r, struct gpg_verifier *gv,
                         const struct untrusted_sig *sig, struct image_sig_check *sc)
{
	cleanup_free char *payload = NULL, *signer = NULL, *why = NULL;
	size_t plen;
	struct sig_payload p = { 0 };
	if (image_gpg_verify(gv, sig->data, sig->len, SIG_MAX_SIZE, &payload, &plen, &signer, &why) < 0
	    || image_sig_payload_parse((unsigned char *) payload, plen, SIG_TYPE_ATOMIC, &p, &why) < 0) {
		sc->detail = take_ptr(why);
		return false;
	}
	if (!digest_is_ours(e, p.digest)) {
		sc->detail = xasprintf("signs manifest %s, not %s", p.digest, e->s->manifest_digest);
	} else if (!image_identity_matches(&r->identity, e->s->ref, p.identity, &why)) {
		sc->detail = take_ptr(why);
	} else {
		sc->detail = xasprintf("signed by %s, identity %s", signer, p.identity);
		sc->accepted = true;
	}
	image_sig_payload_release(&p);
	return sc->accepted;
}

static void eval_signed_by(struct eval *e, const struct policy_req *r, struct image_req_check *rc)
{
	gather(e, &e->simple, false);
	/* A source that failed may hide the signatures that matter: no verdict on part of them. */
	if (e->simple.error || e->simple.list.n == 0) {
		rc->detail = nothing_found(&e->simple);
		return;
	}
	struct gpg_verifier *gv = NULL;
	cleanup_error rune_error_t err = NULL;
	if (image_gpg_verifier_new(r->keys, r->n_keys, &gv, &err) < 0) {
		rc->detail = xstrdup(err->msg);
		return;
	}
	for (size_t i = 0; i < e->simple.list.n; i++) {
		const struct untrusted_sig *sig = &e->simple.list.v[i];
		if (check_simple(e, r, gv, sig, add_sig_check(rc, sig->origin)))
			rc->accepted = true;
	}
	image_gpg_verifier_free(gv);
}

/* ---- sigstore ---- */

/* What a sigstore signature was checked with, and what it proved. */
struct signer {
	EVP_PKEY *key;        /* borrowed from cert, or owned (key mode) */
	const char *key_name; /* the policy key that verified it */
	X509 *cert;           /* certificate mode */
	unsigned char *der;   /* the key's or certificate's DER, as Rekor logs it */
	size_t der_len;
	int64_t logged_at; /* Rekor integrated time, or -1 */
	int64_t log_index;
};

static void signer_release(struct signer *s)
{
	if (s->cert)
		X509_free(s->cert);
	else
		EVP_PKEY_free(s->key);
	free(s->der);
	memset(s, 0, sizeof(*s));
}

/* Key mode: the first policy key that verifies. verify is called with each. */
static bool find_key(const struct policy_req *r, struct signer *out, bool (*verify)(EVP_PKEY *k, const void *arg),
                     const void *arg)
{
	for (size_t i = 0; i < r->n_keys; i++) {
		EVP_PKEY *k = image_sigstore_public_key(r->keys[i].data, r->keys[i].len);
		if (k && verify(k, arg)) {
			out->key = k;
			out->key_name = r->keys[i].name;
			image_sigstore_key_der(k, &out->der, &out->der_len);
			return true;
		}
		EVP_PKEY_free(k);
	}
	return false;
}

/* Certificate mode: chain to the policy's CA at the signing time, carrying
 * the identity the policy names. */
static bool check_cert(const struct policy_req *r, X509 *leaf, STACK_OF(X509) * untrusted, time_t at, char **why)
{
	if (r->intermediates) {
		STACK_OF(X509) *more = image_certs_from_pem(r->intermediates->data, r->intermediates->len);
		for (int i = 0; more && i < sk_X509_num(more); i++)
			sk_X509_push(untrusted, X509_dup(sk_X509_value(more, i)));
		if (more)
			sk_X509_pop_free(more, X509_free);
	}
	if (image_cert_verify(leaf, r->ca, untrusted, at, why) < 0)
		return false;
	if (r->fulcio)
		return image_cert_check_fulcio(leaf, r->oidc_issuer, r->subject_email, why) == 0;
	return image_cert_check_pki(leaf, r->subject_email, r->subject_hostname, why) == 0;
}

struct verify_msg {
	const unsigned char *msg;
	size_t len;
	const unsigned char *sig;
	size_t sig_len;
};

static bool verify_msg(EVP_PKEY *k, const void *arg)
{
	const struct verify_msg *m = arg;
	return image_sigstore_verify(k, m->msg, m->len, m->sig, m->sig_len);
}

static char *accepted_text(const struct signer *s, const char *identity)
{
	cleanup_free char *t = s->logged_at >= 0 ? when(s->logged_at) : NULL;
	cleanup_free char *rekor = t ? xasprintf(", Rekor entry %lld at %s", (long long) s->log_index, t) : xstrdup("");
	cleanup_free char *subject = s->cert ? image_cert_describe(s->cert) : NULL;
	return xasprintf("signed by %s%s, identity %s", s->cert ? subject : s->key_name, rekor,
	                 identity ? identity : "none signed (the digest only)");
}

/* The cosign .sig form: payload + annotations. */
static bool check_cosign(struct eval *e, const struct policy_req *r, const struct untrusted_sig *sig,
                         struct image_sig_check *sc)
{
	cleanup_free unsigned char *raw = NULL;
	cleanup_free char *why = NULL;
	size_t raw_len = 0;
	struct signer who = { .logged_at = -1 };
	struct sig_payload p = { 0 };
	struct rekor_entry entry = { 0 };
	bool ok = false;
	unsigned char sha[SHA256_DIGEST_LENGTH];
	SHA256(sig->data, sig->len, sha);
	if (sig->cosign_signature == NULL
	    || !rune_base64_decode(sig->cosign_signature, strlen(sig->cosign_signature), &raw, &raw_len)) {
		why = xstrdup("no (or no base64) dev.cosignproject.cosign/signature annotation");
		goto out;
	}
	if (r->fulcio || r->pki) {
		if (sig->cosign_certificate == NULL) {
			why = xstrdup("no dev.sigstore.cosign/certificate annotation (the policy wants a certificate)");
			goto out;
		}
		who.cert = image_cert_from_pem((const unsigned char *) sig->cosign_certificate,
		                               strlen(sig->cosign_certificate), &why);
		if (who.cert == NULL)
			goto out;
		who.key = X509_get0_pubkey(who.cert);
		unsigned char *der = NULL;
		int n = i2d_X509(who.cert, &der);
		who.der = xmalloc(n > 0 ? n : 1);
		memcpy(who.der, der, n > 0 ? n : 0);
		who.der_len = n > 0 ? n : 0;
		OPENSSL_free(der);
	} else {
		struct verify_msg m = { sig->data, sig->len, raw, raw_len };
		if (!find_key(r, &who, verify_msg, &m)) {
			why = xasprintf("the signature does not verify with %s%s", r->keys[0].name,
			                r->n_keys > 1 ? " or the policy's other keys" : "");
			goto out;
		}
	}
	if (r->n_rekor_keys) {
		if (sig->cosign_set == NULL) {
			why = xstrdup(
			    "no Rekor SET (dev.sigstore.cosign/bundle annotation), and the policy requires Rekor");
			goto out;
		}
		if (image_rekor_verify_cosign_set(r->rekor_keys, r->n_rekor_keys, sig->cosign_set, &entry, &why) < 0
		    || image_rekor_check_hashedrekord(&entry, who.der, who.der_len, raw, raw_len, sha, &why) < 0)
			goto out;
		who.logged_at = entry.integrated_time;
		who.log_index = entry.log_index;
	}
	if (who.cert) {
		STACK_OF(X509) *chain =
		    sig->cosign_chain
		        ? image_certs_from_pem((const unsigned char *) sig->cosign_chain, strlen(sig->cosign_chain))
		        : NULL;
		if (chain == NULL)
			chain = sk_X509_new_null();
		bool good = check_cert(r, who.cert, chain, who.logged_at >= 0 ? who.logged_at : time(NULL), &why);
		sk_X509_pop_free(chain, X509_free);
		if (!good)
			goto out;
		if (!image_sigstore_verify(who.key, sig->data, sig->len, raw, raw_len)) {
			why = xstrdup("the signature does not verify with the certificate's key");
			goto out;
		}
	}
	if (image_sig_payload_parse(sig->data, sig->len, SIG_TYPE_COSIGN, &p, &why) < 0)
		goto out;
	if (!digest_is_ours(e, p.digest))
		why = xasprintf("signs manifest %s, not %s", p.digest, e->s->manifest_digest);
	else if (image_identity_matches(&r->identity, e->s->ref, p.identity, &why))
		ok = true;
out:
	sc->accepted = ok;
	sc->detail = ok ? accepted_text(&who, p.identity) : take_ptr(why);
	image_sig_payload_release(&p);
	image_rekor_entry_release(&entry);
	signer_release(&who);
	return ok;
}

/* What a bundle signs, checked against the image: the manifest itself
 * (message signature) or an in-toto statement naming its digest (DSSE).
 * *signed_msg is what the signature covers; *identity the signed name. */
static int bundle_content(struct eval *e, const struct sig_bundle *b, unsigned char **signed_msg, size_t *msg_len,
                          char **identity, char **why)
{
	if (!b->dsse) {
		cleanup_free char *hex = rune_hex_encode(b->digest, b->digest_len);
		cleanup_free char *digest = xasprintf("sha256:%s", hex);
		if (!digest_is_ours(e, digest)) {
			*why = xasprintf("the bundle signs %s, not this image's manifest", digest);
			return -1;
		}
		/* The message is the manifest; for Ed25519 its bytes are needed, not just the digest. */
		bool top = strcmp(digest, e->s->top_digest) == 0;
		*msg_len = top ? e->s->top_len : e->s->manifest_len;
		*signed_msg = xmalloc(*msg_len + 1);
		memcpy(*signed_msg, top ? e->s->top_body : e->s->manifest_body, *msg_len);
		*identity = NULL;
		return 0;
	}
	if (strcmp(b->payload_type, INTOTO_PAYLOAD_TYPE) != 0) {
		*why = xasprintf("the bundle's DSSE payloadType is %s, not %s", b->payload_type, INTOTO_PAYLOAD_TYPE);
		return -1;
	}
	struct intoto_subject *subjects;
	size_t n;
	if (image_intoto_parse(b->payload, b->payload_len, COSIGN_SIGN_PREDICATE, &subjects, &n, why) < 0)
		return -1;
	const struct intoto_subject *match = NULL;
	for (size_t i = 0; i < n && !match; i++) {
		cleanup_free char *d = subjects[i].sha256 ? xasprintf("sha256:%s", subjects[i].sha256) : NULL;
		if (d && digest_is_ours(e, d))
			match = &subjects[i];
	}
	int rc = 0;
	if (match == NULL) {
		*why = xasprintf("the bundle's in-toto statement names %s%s, not this image's manifest",
		                 subjects[0].sha256 ? "sha256:" : "no sha256 digest",
		                 subjects[0].sha256 ? subjects[0].sha256 : "");
		rc = -1;
	} else {
		*identity = match->name ? xstrdup(match->name) : NULL;
		*signed_msg = image_dsse_pae(b->payload_type, b->payload, b->payload_len, msg_len);
	}
	image_intoto_subjects_free(subjects, n);
	return rc;
}

/* The bundle's transparency-log entries: one must verify with the policy's
 * Rekor keys and record this signature. */
static int bundle_tlog(const struct policy_req *r, const struct sig_bundle *b, struct signer *who,
                       const unsigned char *signed_sha, char **why)
{
	cleanup_free char *first = NULL;
	for (size_t i = 0; i < b->n_tlogs; i++) {
		const struct bundle_tlog *t = &b->tlogs[i];
		struct rekor_entry entry = { 0 };
		char *w = NULL;
		int rc = -1;
		if (t->set == NULL)
			w = xstrdup("a Rekor entry without an inclusion promise (SET)");
		else if (image_rekor_verify_promise(r->rekor_keys, r->n_rekor_keys, t->body_b64, t->integrated_time,
		                                    t->log_index, t->log_id_hex, t->set, t->set_len, &entry, &w)
		         == 0)
			rc = b->dsse ? image_rekor_check_dsse(&entry, who->der, who->der_len, b->signature, b->sig_len,
			                                      signed_sha, &w)
			             : image_rekor_check_hashedrekord(&entry, who->der, who->der_len, b->signature,
			                                              b->sig_len, signed_sha, &w);
		if (rc == 0) {
			who->logged_at = entry.integrated_time;
			who->log_index = entry.log_index;
		}
		image_rekor_entry_release(&entry);
		if (rc == 0)
			return 0;
		if (first == NULL)
			first = w;
		else
			free(w);
	}
	*why = first ? take_ptr(first) : xstrdup("no Rekor entry in the bundle, and the policy requires Rekor");
	return -1;
}

static bool check_bundle(struct eval *e, const struct policy_req *r, const struct untrusted_sig *sig,
                         struct image_sig_check *sc)
{
	struct sig_bundle b;
	struct signer who = { .logged_at = -1 };
	cleanup_free char *why = NULL, *identity = NULL;
	cleanup_free unsigned char *msg = NULL;
	size_t msg_len = 0;
	bool ok = false;
	if (image_bundle_parse((const char *) sig->data, sig->len, &b, &why) < 0) {
		sc->detail = take_ptr(why);
		return false;
	}
	unsigned char sha[SHA256_DIGEST_LENGTH];
	if (bundle_content(e, &b, &msg, &msg_len, &identity, &why) < 0)
		goto out;
	/* What Rekor hashes: the message digest, or the DSSE payload. */
	if (b.dsse)
		SHA256(b.payload, b.payload_len, sha);
	else
		memcpy(sha, b.digest, sizeof(sha));
	bool want_cert = r->fulcio || r->pki;
	if (want_cert != (b.cert != NULL)) {
		why = xstrdup(want_cert ? "the bundle is signed with a key; the policy wants a certificate"
		                        : "the bundle carries a certificate; the policy names keys");
		goto out;
	}
	struct verify_msg m = { msg, msg_len, b.signature, b.sig_len };
	if (want_cert) {
		const unsigned char *p = b.cert;
		who.cert = d2i_X509(NULL, &p, (long) b.cert_len);
		if (who.cert == NULL) {
			why = xstrdup("the bundle's certificate does not parse");
			goto out;
		}
		who.key = X509_get0_pubkey(who.cert);
		who.der = xmalloc(b.cert_len);
		memcpy(who.der, b.cert, b.cert_len);
		who.der_len = b.cert_len;
		if (!verify_msg(who.key, &m)) {
			why = xstrdup("the signature does not verify with the certificate's key");
			goto out;
		}
	} else if (!find_key(r, &who, verify_msg, &m)) {
		why = xasprintf("the signature does not verify with %s%s", r->keys[0].name,
		                r->n_keys > 1 ? " or the policy's other keys" : "");
		goto out;
	}
	if (r->n_rekor_keys && bundle_tlog(r, &b, &who, sha, &why) < 0)
		goto out;
	if (want_cert) {
		STACK_OF(X509) *chain = sk_X509_new_null();
		for (size_t i = 0; i < b.n_chain; i++) {
			const unsigned char *p = b.chain[i];
			X509 *x = d2i_X509(NULL, &p, (long) b.chain_len[i]);
			if (x)
				sk_X509_push(chain, x);
		}
		bool good = check_cert(r, who.cert, chain, who.logged_at >= 0 ? who.logged_at : time(NULL), &why);
		sk_X509_pop_free(chain, X509_free);
		if (!good)
			goto out;
	}
	ok = image_identity_matches(&r->identity, e->s->ref, identity, &why);
out:
	sc->accepted = ok;
	sc->detail = ok ? accepted_text(&who, identity) : take_ptr(why);
	signer_release(&who);
	image_bundle_release(&b);
	return ok;
}

static void eval_sigstore_signed(struct eval *e, const struct policy_req *r, struct image_req_check *rc)
{
	gather(e, &e->sigstore, true);
	if (e->sigstore.error || e->sigstore.list.n == 0) {
		rc->detail = nothing_found(&e->sigstore);
		return;
	}
	for (size_t i = 0; i < e->sigstore.list.n; i++) {
		const struct untrusted_sig *sig = &e->sigstore.list.v[i];
		struct image_sig_check *sc = add_sig_check(rc, sig->origin);
		if (sig->kind == SIG_COSIGN ? check_cosign(e, r, sig, sc) : check_bundle(e, r, sig, sc))
			rc->accepted = true;
	}
}

/* ---- the decision ---- */

int image_trust_load(struct image_ctx *c, rune_error_t *err)
{
	if (c->o.trust.insecure_policy)
		return 0;
	if (c->policy == NULL && image_policy_load(&c->o.trust, &c->policy, err) < 0)
		return -1;
	if (c->registries_d == NULL && image_registries_d_load(&c->o.trust, &c->registries_d, err) < 0)
		return -1;
	return 0;
}

static void evaluate(struct eval *e, const struct policy_reqs *reqs, struct image_verdict *v)
{
	v->reqs = xcalloc(reqs->n, sizeof(*v->reqs));
	v->accepted = true;
	for (size_t i = 0; i < reqs->n; i++) {
		const struct policy_req *r = &reqs->v[i];
		struct image_req_check *rc = &v->reqs[v->n_reqs++];
		rc->requirement = image_policy_req_summary(r);
		switch (r->type) {
		case REQ_INSECURE_ACCEPT_ANYTHING:
			rc->accepted = true;
			rc->detail = xstrdup("accepts any image");
			break;
		case REQ_REJECT:
			rc->detail = xstrdup("the policy rejects every image in this scope");
			break;
		case REQ_SIGNED_BASE_LAYER:
			rc->detail = xstrdup("signedBaseLayer is not implemented (nor in containers/image)");
			break;
		case REQ_SIGNED_BY:
			eval_signed_by(e, r, rc);
			break;
		case REQ_SIGSTORE_SIGNED:
			eval_sigstore_signed(e, r, rc);
			break;
		}
		v->accepted = v->accepted && rc->accepted;
	}
}

int image_trust_evaluate(struct image_ctx *c, const struct trust_subject *s, struct image_verdict *v, rune_error_t *err)
{
	memset(v, 0, sizeof(*v));
	v->reference = image_ref_string(s->ref);
	v->digest = xstrdup(s->top_digest);
	v->manifest_digest = xstrdup(s->manifest_digest);
	if (c->o.trust.insecure_policy) {
		v->policy = xstrdup("--insecure-policy");
		v->scope = xstrdup("(none)");
		v->accepted = true;
		v->reqs = xcalloc(1, sizeof(*v->reqs));
		v->n_reqs = 1;
		v->reqs[0].requirement = xstrdup("insecureAcceptAnything");
		v->reqs[0].accepted = true;
		v->reqs[0].detail = xstrdup("no policy: --insecure-policy");
		return 0;
	}
	if (image_trust_load(c, err) < 0)
		return -1;
	const struct policy_reqs *reqs = image_policy_for(c->policy, s->ref);
	v->policy = xstrdup(c->policy->source);
	v->scope = xstrdup(reqs->where);
	struct eval e = { .c = c, .s = s, .client = s->client };
	image_registries_d_for(c->registries_d, s->ref, &e.storage);
	evaluate(&e, reqs, v);
	image_sig_storage_release(&e.storage);
	image_sig_list_release(&e.simple.list);
	image_sig_list_release(&e.sigstore.list);
	free(e.simple.error);
	free(e.sigstore.error);
	if (e.own_client)
		image_registry_client_free(e.client);
	return 0;
}

/* "requirement: reason" for each failed requirement, "; "-joined. */
static char *refusal_reasons(const struct image_verdict *v)
{
	char *all = xstrdup("");
	for (size_t i = 0; i < v->n_reqs; i++) {
		const struct image_req_check *rc = &v->reqs[i];
		if (rc->accepted)
			continue;
		cleanup_free char *why = NULL;
		if (rc->n_sigs == 0) {
			why = xstrdup(rc->detail ? rc->detail : "rejected");
		} else {
			why = xstrdup("");
			for (size_t k = 0; k < rc->n_sigs; k++) {
				char *more = xasprintf("%s%ssignature %zu (%s): %s", why, k ? "; " : "", k + 1,
				                       rc->sigs[k].origin, rc->sigs[k].detail);
				free(why);
				why = more;
			}
		}
		char *more = xasprintf("%s%s%s: %s", all, *all ? "; " : "", rc->requirement, why);
		free(all);
		all = more;
	}
	return all;
}

int image_trust_enforce(struct image_ctx *c, const struct trust_subject *s, rune_error_t *err)
{
	struct image_verdict v;
	if (image_trust_evaluate(c, s, &v, err) < 0)
		return -1;
	int rc = 0;
	if (!v.accepted) {
		cleanup_free char *why = refusal_reasons(&v);
		rc = rune_error(err, 0, "image %s rejected by policy %s (%s): %s", v.reference, v.policy, v.scope, why);
		(*err)->status = EPERM;
	} else {
		log_debug("image %s accepted by policy %s (%s)", v.reference, v.policy, v.scope);
		if (c->o.on_verified && c->o.on_verified(v.reference, v.manifest_digest, c->o.on_verified_arg, err) < 0)
			rc = rune_error_wrap(err, "image %s (%s), verified", v.reference, v.manifest_digest);
	}
	image_verdict_release(&v);
	return rc;
}

void image_verdict_release(struct image_verdict *v)
{
	free(v->reference);
	free(v->digest);
	free(v->manifest_digest);
	free(v->policy);
	free(v->scope);
	for (size_t i = 0; i < v->n_reqs; i++) {
		struct image_req_check *rc = &v->reqs[i];
		free(rc->requirement);
		free(rc->detail);
		for (size_t k = 0; k < rc->n_sigs; k++) {
			free(rc->sigs[k].origin);
			free(rc->sigs[k].detail);
		}
		free(rc->sigs);
	}
	free(v->reqs);
	memset(v, 0, sizeof(*v));
}

void image_trust_release(struct image_ctx *c)
{
	image_policy_free(c->policy);
	image_registries_d_free(c->registries_d);
	c->policy = NULL;
	c->registries_d = NULL;
}
