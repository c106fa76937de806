#include "rekor.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <string.h>

#include "cleanup.h"
#include "encoding.h"
#include "json.h"
#include "sigstore.h"
#include "util.h"

#define BODY_MAX (1 << 20)

static bool only(const char *s, const char *set)
{
	return strspn(s, set) == strlen(s);
}

static const char B64_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

/* SHA-256 of the DER of a PEM public key, hex: what Rekor calls the log ID. */
static char *log_id_of(const struct trust_blob *k)
{
	EVP_PKEY *key = image_sigstore_public_key(k->data, k->len);
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	size_t n;
	char *id = NULL;
	if (key && image_sigstore_key_der(key, &der, &n) == 0) {
		SHA256(der, n, md);
		id = rune_hex_encode(md, sizeof(md));
	}
	free(der);
	EVP_PKEY_free(key);
	return id;
}

int image_rekor_verify_promise(const struct trust_blob *keys, size_t n, const char *body_b64, int64_t integrated_time,
                               int64_t log_index, const char *log_id_hex, const unsigned char *set, size_t set_len,
                               struct rekor_entry *out, char **why)
{
	memset(out, 0, sizeof(*out));
	if (!only(body_b64, B64_CHARS) || !only(log_id_hex, "0123456789abcdef") || strlen(body_b64) > BODY_MAX * 2) {
		*why = xstrdup("the Rekor entry's body or log ID is malformed");
		return -1;
	}
	/* RFC 8785 canonical JSON of exactly these members: keys sorted, integers
	 * plain, strings here need no escaping (checked above). */
	cleanup_free char *canonical =
	    xasprintf("{\"body\":\"%s\",\"integratedTime\":%lld,\"logID\":\"%s\",\"logIndex\":%lld}", body_b64,
	              (long long) integrated_time, log_id_hex, (long long) log_index);
	const struct trust_blob *by = NULL;
	for (size_t i = 0; i < n && !by; i++) {
		cleanup_free char *id = log_id_of(&keys[i]);
		EVP_PKEY *k = image_sigstore_public_key(keys[i].data, keys[i].len);
		if (k && id && strcmp(id, log_id_hex) == 0
		    && image_sigstore_verify(k, canonical, strlen(canonical), set, set_len))
			by = &keys[i];
		EVP_PKEY_free(k);
	}
	if (by == NULL) {
		*why = xasprintf("the Rekor SET (log %.16s…, entry %lld) does not verify with the policy's Rekor key%s",
		                 log_id_hex, (long long) log_index, n > 1 ? "s" : "");
		return -1;
	}
	unsigned char *body = NULL;
	size_t body_len = 0;
	if (!rune_base64_decode(body_b64, strlen(body_b64), &body, &body_len) || memchr(body, '\0', body_len)) {
		free(body);
		*why = xstrdup("the Rekor entry's body is not base64 JSON");
		return -1;
	}
	out->integrated_time = integrated_time;
	out->log_index = log_index;
	out->log_id = xstrdup(log_id_hex);
	out->body = (char *) body;
	out->key = by->name;
	return 0;
}

static int strict(yajl_val v, const char *where, const struct rune_json_field *f, size_t n, char **why)
{
	cleanup_error rune_error_t err = NULL;
	if (rune_json_object_fields(v, where, f, n, &err) < 0) {
		*why = xstrdup(err->msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (*f[i].value == NULL) {
			*why = xasprintf("%s: missing \"%s\"", where, f[i].name);
			return -1;
		}
	return 0;
}

int image_rekor_verify_cosign_set(const struct trust_blob *keys, size_t n, const char *json, struct rekor_entry *out,
                                  char **why)
{
	yajl_val tree, set, payload, body, time, index, id;
	const struct rune_json_field top[] = { { "SignedEntryTimestamp", &set }, { "Payload", &payload } };
	const struct rune_json_field pay[] = {
		{ "body", &body }, { "integratedTime", &time }, { "logIndex", &index }, { "logID", &id }
	};
	cleanup_error rune_error_t err = NULL;
	if (rune_json_parse(json, "Rekor SET", &tree, &err) < 0) {
		*why = xstrdup(err->msg);
		return -1;
	}
	int rc = -1;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	if (strict(tree, "Rekor SET", top, ARRAY_SIZE(top), why) < 0
	    || strict(payload, "Rekor SET Payload", pay, ARRAY_SIZE(pay), why) < 0)
		goto out;
	if (!YAJL_IS_STRING(set) || !YAJL_IS_STRING(body) || !YAJL_IS_INTEGER(time) || !YAJL_IS_INTEGER(index)
	    || !YAJL_IS_STRING(id)) {
		*why = xstrdup("Rekor SET: a member has the wrong type");
		goto out;
	}
	if (!rune_base64_decode(set->u.string, strlen(set->u.string), &sig, &sig_len)) {
		*why = xstrdup("Rekor SET: SignedEntryTimestamp is not base64");
		goto out;
	}
	rc = image_rekor_verify_promise(keys, n, body->u.string, YAJL_GET_INTEGER(time), YAJL_GET_INTEGER(index),
	                                id->u.string, sig, sig_len, out, why);
out:
	free(sig);
	yajl_tree_free(tree);
	return rc;
}

/* DER of the PEM object (key or certificate) base64-encoded in a Rekor body. */
static bool pem_b64_der(const char *b64, unsigned char **der, long *len)
{
	unsigned char *pem;
	size_t pem_len;
	if (!rune_base64_decode(b64, strlen(b64), &pem, &pem_len))
		return false;
	BIO *b = BIO_new_mem_buf(pem, (int) pem_len);
	char *name = NULL, *header = NULL;
	bool ok = b && PEM_read_bio(b, &name, &header, der, len) == 1;
	/* Nothing may follow the one object. */
	if (ok && BIO_pending(b) > 0) {
		char rest[64];
		int k = BIO_read(b, rest, sizeof(rest));
		for (int i = 0; i < k; i++)
			if (rest[i] != '\n' && rest[i] != '\r' && rest[i] != ' ')
				ok = false;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	BIO_free(b);
	free(pem);
	return ok;
}

static bool same_key(const char *b64_pem, const unsigned char *key_der, size_t der_len)
{
	unsigned char *der = NULL;
	long len = 0;
	bool same = pem_b64_der(b64_pem, &der, &len) && (size_t) len == der_len && memcmp(der, key_der, der_len) == 0;
	OPENSSL_free(der);
	return same;
}

static bool same_b64(const char *b64, const unsigned char *want, size_t want_len)
{
	unsigned char *raw;
	size_t n;
	if (!rune_base64_decode(b64, strlen(b64), &raw, &n))
		return false;
	bool same = n == want_len && memcmp(raw, want, n) == 0;
	free(raw);
	return same;
}

static bool same_hash(yajl_val hash, const unsigned char want[32])
{
	const char *path_alg[] = { "algorithm", NULL }, *path_val[] = { "value", NULL };
	yajl_val alg = yajl_tree_get(hash, path_alg, yajl_t_string), val = yajl_tree_get(hash, path_val, yajl_t_string);
	cleanup_free char *hex = rune_hex_encode(want, 32);
	return alg && val && strcmp(alg->u.string, "sha256") == 0 && strcasecmp(val->u.string, hex) == 0;
}

/* Parse the body and check kind and apiVersion; *spec points into *tree. */
static int body_spec(const struct rekor_entry *e, const char *kind, yajl_val *tree, yajl_val *spec, char **why)
{
	cleanup_error rune_error_t err = NULL;
	if (rune_json_parse(e->body, "Rekor entry body", tree, &err) < 0) {
		*why = xstrdup(err->msg);
		return -1;
	}
	yajl_val k = rune_json_get(*tree, "kind"), v = rune_json_get(*tree, "apiVersion");
	*spec = rune_json_get(*tree, "spec");
	if (!YAJL_IS_STRING(k) || strcmp(k->u.string, kind) != 0 || !YAJL_IS_STRING(v)
	    || strcmp(v->u.string, "0.0.1") != 0 || !YAJL_IS_OBJECT(*spec)) {
		*why = xasprintf("the Rekor entry is not a %s 0.0.1 entry", kind);
		yajl_tree_free(*tree);
		return -1;
	}
	return 0;
}

int image_rekor_check_hashedrekord(const struct rekor_entry *e, const unsigned char *key_der, size_t der_len,
                                   const unsigned char *sig, size_t sig_len, const unsigned char payload_sha256[32],
                                   char **why)
{
	yajl_val tree, spec;
	if (body_spec(e, "hashedrekord", &tree, &spec, why) < 0)
		return -1;
	const char *p_sig[] = { "signature", "content", NULL },
	           *p_key[] = { "signature", "publicKey", "content", NULL };
	const char *p_hash[] = { "data", "hash", NULL };
	yajl_val s = yajl_tree_get(spec, p_sig, yajl_t_string), k = yajl_tree_get(spec, p_key, yajl_t_string);
	yajl_val h = yajl_tree_get(spec, p_hash, yajl_t_object);
	int rc = -1;
	if (!s || !k || !h)
		*why = xstrdup("the Rekor entry lacks signature.content, signature.publicKey.content or data.hash");
	else if (!same_key(k->u.string, key_der, der_len))
		*why = xstrdup("the Rekor entry names another public key or certificate");
	else if (!same_b64(s->u.string, sig, sig_len))
		*why = xstrdup("the Rekor entry records another signature");
	else if (!same_hash(h, payload_sha256))
		*why = xstrdup("the Rekor entry records another payload (data.hash)");
	else
		rc = 0;
	yajl_tree_free(tree);
	return rc;
}

int image_rekor_check_dsse(const struct rekor_entry *e, const unsigned char *key_der, size_t der_len,
                           const unsigned char *sig, size_t sig_len, const unsigned char payload_sha256[32], char **why)
{
	yajl_val tree, spec;
	if (body_spec(e, "dsse", &tree, &spec, why) < 0)
		return -1;
	yajl_val sigs = rune_json_get(spec, "signatures"), hash = rune_json_get(spec, "payloadHash");
	yajl_val one = YAJL_IS_ARRAY(sigs) && sigs->u.array.len == 1 ? sigs->u.array.values[0] : NULL;
	yajl_val s = rune_json_get(one, "signature"), v = rune_json_get(one, "verifier");
	int rc = -1;
	if (!one || !YAJL_IS_STRING(s) || !YAJL_IS_STRING(v) || !YAJL_IS_OBJECT(hash))
		*why = xstrdup("the Rekor entry is not one signature with its verifier and a payloadHash");
	else if (!same_key(v->u.string, key_der, der_len))
		*why = xstrdup("the Rekor entry names another public key or certificate");
	else if (!same_b64(s->u.string, sig, sig_len))
		*why = xstrdup("the Rekor entry records another signature");
	else if (!same_hash(hash, payload_sha256))
		*why = xstrdup("the Rekor entry records another payload (payloadHash)");
	else
		rc = 0;
	yajl_tree_free(tree);
	return rc;
}

void image_rekor_entry_release(struct rekor_entry *e)
{
	free(e->log_id);
	free(e->body);
	memset(e, 0, sizeof(*e));
}
