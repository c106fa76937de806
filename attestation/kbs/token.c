/* Tokens: rune-kbs issues EAR-style JWTs (ES256, libjose) and checks admin
 * bearer tokens as Trustee's admin API does (EdDSA with the admin's Ed25519
 * key, by OpenSSL since libjose has no EdDSA; ES256 by libjose). */
#include <jose/jose.h>
#include <jose/openssl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "encoding.h"
#include "kbs.h"
#include "util.h"

#define TOKEN_MAX (64 * 1024)

static char *b64url_json(json_t *v)
{
	cleanup_free char *s = json_dumps(v, JSON_COMPACT);
	return rune_base64url_encode(s, strlen(s));
}

char *kbs_token_issue(struct kbs *k, const struct kbs_claims *c, const char *nonce, json_t *pubkey)
{
	time_t now = time(NULL);
	json_t *ev = json_pack("{s:s,s:s,s:b,s:{s:s,s:O}}", "tee", c->tee, "measurement", c->measurement, "simulation",
	                       c->simulation, "runtime_data_claims", "nonce", nonce, "tee-pubkey", pubkey);
	if (c->init_data[0])
		json_object_set_new(ev, "init_data", json_string(c->init_data));
	if (c->image_digest[0])
		json_object_set_new(
		    ev, "image",
		    json_pack("{s:s,s:s}", "repository", c->image_repository, "manifest_digest", c->image_digest));
	json_t *claims = json_pack("{s:s,s:I,s:I,s:s,s:{s:s,s:s},s:{s:{s:s,s:{},s:s,s:o}}}", "eat_profile",
	                           "tag:github.com,2024:confidential-containers/Trustee", "iat", (json_int_t) now,
	                           "exp", (json_int_t) (now + k->cfg.token_ttl), "iss", "rune-kbs", "ear.verifier-id",
	                           "developer", "rune", "build", "rune-kbs " RUNE_VERSION, "submods", "cpu0",
	                           "ear.status", c->simulation ? "warning" : "affirming", "ear.trustworthiness-vector",
	                           "ear.appraisal-policy-id", "rune-kbs", "ear.veraison.annotated-evidence", ev);
	json_t *pub = json_deep_copy(k->token_key);
	jose_jwk_pub(NULL, pub);
	cleanup_free char *payload = b64url_json(claims);
	json_t *jws = json_pack("{s:s}", "payload", payload);
	json_t *sig = json_pack("{s:{s:s,s:s,s:o}}", "protected", "alg", "ES256", "typ", "JWT", "jwk", pub);
	char *out = NULL;
	if (jose_jws_sig(NULL, jws, sig, k->token_key))
		out = xasprintf("%s.%s.%s", json_string_value(json_object_get(jws, "protected")),
		                json_string_value(json_object_get(jws, "payload")),
		                json_string_value(json_object_get(jws, "signature")));
	json_decref(sig);
	json_decref(jws);
	json_decref(claims);
	return out;
}

/* A compact JWS split into its parts, its header and payload decoded. */
struct jwt {
	char *text; /* a copy, cut at the dots */
	const char *h64, *p64, *s64;
	json_t *header, *payload;
};

static void jwt_free(struct jwt *t)
{
	free(t->text);
	json_decref(t->header);
	json_decref(t->payload);
}

static json_t *b64url_json_parse(const char *s)
{
	unsigned char *raw = NULL;
	size_t n = 0;
	json_error_t je;
	json_t *v = NULL;
	if (rune_base64url_decode(s, strlen(s), &raw, &n))
		v = json_loadb((const char *) raw, n, 0, &je);
	free(raw);
	return json_is_object(v) ? v : (json_decref(v), NULL);
}

static int jwt_parse(const char *jwt, const char *what, struct jwt *t, rune_error_t *err)
{
	memset(t, 0, sizeof(*t));
	if (strlen(jwt) > TOKEN_MAX)
		return rune_error(err, 0, "%s: longer than %d bytes", what, TOKEN_MAX);
	t->text = xstrdup(jwt);
	char *a = strchr(t->text, '.'), *b = a ? strchr(a + 1, '.') : NULL;
	if (b == NULL || strchr(b + 1, '.'))
		return rune_error(err, 0, "%s: not a compact JWS (header.payload.signature)", what);
	*a = *b = '\0';
	t->h64 = t->text;
	t->p64 = a + 1;
	t->s64 = b + 1;
	t->header = b64url_json_parse(t->h64);
	t->payload = b64url_json_parse(t->p64);
	if (t->header == NULL || t->payload == NULL)
		return rune_error(err, 0, "%s: header or payload is not base64url JSON", what);
	json_t *exp = json_object_get(t->payload, "exp");
	if (!json_is_integer(exp) || json_integer_value(exp) < (json_int_t) time(NULL))
		return rune_error(err, 0, "%s: expired (or without exp)", what);
	return 0;
}

static bool es256_ok(const struct jwt *t, const json_t *jwk)
{
	json_t *jws = json_pack("{s:s,s:s,s:s}", "protected", t->h64, "payload", t->p64, "signature", t->s64);
	bool ok = jose_jws_ver(NULL, jws, NULL, jwk, false);
	json_decref(jws);
	return ok;
}

int kbs_token_check(struct kbs *k, const char *jwt, struct kbs_claims *c, json_t **pubkey, rune_error_t *err)
{
	struct jwt t;
	int rc = jwt_parse(jwt, "token", &t, err);
	if (rc == 0 && !es256_ok(&t, k->token_key))
		rc = rune_error(err, 0, "token: not signed by this KBS");
	json_t *ev = json_object_get(json_object_get(json_object_get(t.payload, "submods"), "cpu0"),
	                             "ear.veraison.annotated-evidence");
	json_t *pub = json_object_get(json_object_get(ev, "runtime_data_claims"), "tee-pubkey");
	if (rc == 0 && !json_is_object(pub))
		rc = rune_error(err, 0, "token: no tee-pubkey in its claims");
	if (rc == 0) {
		memset(c, 0, sizeof(*c));
		snprintf(c->tee, sizeof(c->tee), "%s", json_string_value(json_object_get(ev, "tee")) ?: "");
		snprintf(c->measurement, sizeof(c->measurement), "%s",
		         json_string_value(json_object_get(ev, "measurement")) ?: "");
		snprintf(c->init_data, sizeof(c->init_data), "%s",
		         json_string_value(json_object_get(ev, "init_data")) ?: "");
		c->simulation = json_is_true(json_object_get(ev, "simulation"));
		json_t *img = json_object_get(ev, "image");
		snprintf(c->image_repository, sizeof(c->image_repository), "%s",
		         json_string_value(json_object_get(img, "repository")) ?: "");
		snprintf(c->image_digest, sizeof(c->image_digest), "%s",
		         json_string_value(json_object_get(img, "manifest_digest")) ?: "");
		*pubkey = json_incref(pub);
	}
	jwt_free(&t);
	return rc;
}

int kbs_admin_check(struct kbs *k, const char *jwt, rune_error_t *err)
{
	struct jwt t;
	if (k->admin_key == NULL)
		return rune_error(err, 0, "admin API: no admin key configured (--admin-key)");
	int rc = jwt_parse(jwt, "admin token", &t, err);
	const char *alg = json_string_value(json_object_get(t.header, "alg"));
	if (rc == 0 && alg && strcmp(alg, "EdDSA") == 0 && EVP_PKEY_get_base_id(k->admin_key) == EVP_PKEY_ED25519) {
		unsigned char *sig = NULL;
		size_t n = 0;
		cleanup_free char *signed_part = xasprintf("%s.%s", t.h64, t.p64);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		bool ok = rune_base64url_decode(t.s64, strlen(t.s64), &sig, &n) && ctx
		          && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->admin_key) == 1
		          && EVP_DigestVerify(ctx, sig, n, (unsigned char *) signed_part, strlen(signed_part)) == 1;
		EVP_MD_CTX_free(ctx);
		free(sig);
		if (!ok)
			rc = rune_error(err, 0, "admin token: the EdDSA signature does not verify with the admin key");
	} else if (rc == 0 && alg && strcmp(alg, "ES256") == 0 && EVP_PKEY_get_base_id(k->admin_key) == EVP_PKEY_EC) {
		json_t *jwk = jose_openssl_jwk_from_EVP_PKEY(NULL, k->admin_key);
		if (!es256_ok(&t, jwk))
			rc = rune_error(err, 0, "admin token: the ES256 signature does not verify with the admin key");
		json_decref(jwk);
	} else if (rc == 0) {
		rc = rune_error(err, 0,
		                "admin token: alg %s does not fit the admin key (EdDSA for Ed25519, ES256 for "
		                "P-256)",
		                alg ? alg : "missing");
	}
	jwt_free(&t);
	return rc;
}
