#include "jwe.h"

#include <jose/jose.h>
#include <jose/openssl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>

#include "cleanup.h"
#include "encoding.h"
#include "util.h"

void rune_jwe_free(unsigned char *pt, size_t len)
{
	if (pt == NULL)
		return;
	OPENSSL_cleanse(pt, len);
	free(pt);
}

/* The content (A256GCM, the protected header as AAD) with the content key,
 * through libjose's streaming API into a bounded buffer of ours:
 * jose_jwe_dec_cek's own buffer comes back freed in libjose 11. NULL unless
 * the tag verifies. */
static unsigned char *content(json_t *jwe, const json_t *cek, size_t max, size_t *len)
{
	const char *ct = json_string_value(json_object_get(jwe, "ciphertext"));
	unsigned char *raw = NULL;
	size_t raw_len = 0, n = max;
	unsigned char *buf = xmalloc(max + 1);
	jose_io_t *out = jose_io_buffer(NULL, buf, &n);
	jose_io_t *dec = out ? jose_jwe_dec_cek_io(NULL, jwe, cek, out) : NULL;
	bool ok = dec && ct && rune_base64url_decode(ct, strlen(ct), &raw, &raw_len) && raw_len <= max
	          && dec->feed(dec, raw, raw_len) && dec->done(dec);
	if (dec)
		jose_io_decref(dec);
	if (out)
		jose_io_decref(out);
	free(raw);
	if (!ok) {
		rune_jwe_free(buf, max + 1);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static const EVP_MD *oaep_md(const char *alg)
{
	if (alg && strcmp(alg, "RSA-OAEP") == 0)
		return EVP_sha1();
	if (alg && strcmp(alg, "RSA-OAEP-256") == 0)
		return EVP_sha256();
	return NULL;
}

/* An OpenSSL context for RSA-OAEP with md (OAEP and MGF1 alike) under the
 * RSA key of jwk, set up to encrypt or decrypt; NULL if it cannot be. */
static EVP_PKEY_CTX *oaep_ctx(const json_t *jwk, const EVP_MD *md, bool encrypt)
{
	EVP_PKEY *key = jose_openssl_jwk_to_EVP_PKEY(NULL, jwk);
	EVP_PKEY_CTX *ctx = key ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	EVP_PKEY_free(key); /* the context holds its own reference */
	if (ctx && (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1
	    && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1
	    && EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) == 1)
		return ctx;
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

/* RSA-OAEP(-256) unwrap by OpenSSL; the content key as an "oct" JWK. */
static json_t *oaep_unwrap(json_t *rcp, const json_t *jwk, const EVP_MD *md)
{
	const char *ek = json_string_value(json_object_get(rcp, "encrypted_key"));
	unsigned char *wrapped = NULL, cek[1024]; /* OpenSSL wants room for a whole RSA block */
	size_t wlen = 0, cek_len = sizeof(cek);
	json_t *out = NULL;
	EVP_PKEY_CTX *ctx = ek ? oaep_ctx(jwk, md, false) : NULL;
	if (ctx && rune_base64url_decode(ek, strlen(ek), &wrapped, &wlen)
	    && EVP_PKEY_decrypt(ctx, cek, &cek_len, wrapped, wlen) == 1) {
		char *k = rune_base64url_encode(cek, cek_len);
		out = json_pack("{s:s,s:s}", "kty", "oct", "k", k);
		OPENSSL_cleanse(k, strlen(k));
		free(k);
	}
	OPENSSL_cleanse(cek, sizeof(cek));
	EVP_PKEY_CTX_free(ctx);
	free(wrapped);
	return out;
}

/* Wipe the key bytes of an "oct" JWK before jansson frees it. */
static void cek_free(json_t *cek)
{
	json_t *k = json_object_get(cek, "k");
	if (json_is_string(k))
		OPENSSL_cleanse((char *) json_string_value(k), json_string_length(k));
	json_decref(cek);
}

unsigned char *rune_jwe_decrypt(json_t *jwe, const json_t *jwk, size_t max, size_t *len, const char **why)
{
	if (!json_is_object(jwe)) {
		*why = "not a JSON object";
		return NULL;
	}
	/* General serialization lists recipients; flattened is its own one. */
	json_t *rcps = json_object_get(jwe, "recipients");
	size_t n = json_is_array(rcps) ? json_array_size(rcps) : 1;
	unsigned char *pt = NULL;
	*why = "no recipient matches the key";
	for (size_t r = 0; r < n && pt == NULL; r++) {
		json_t *rcp = json_is_array(rcps) ? json_array_get(rcps, r) : jwe;
		json_t *hdr = jose_jwe_hdr(jwe, rcp);
		const EVP_MD *md = oaep_md(json_string_value(json_object_get(hdr, "alg")));
		json_t *cek = md ? oaep_unwrap(rcp, jwk, md) : jose_jwe_dec_jwk(NULL, jwe, rcp, jwk);
		json_decref(hdr);
		if (cek == NULL)
			continue;
		pt = content(jwe, cek, max, len);
		if (pt == NULL)
			*why = "the content does not decrypt with the unwrapped key (or exceeds its bound)";
		cek_free(cek);
	}
	return pt;
}

static int oaep_wrap(json_t *jwe, const json_t *jwk, const json_t *cek, const EVP_MD *md, rune_error_t *err)
{
	const char *k = json_string_value(json_object_get(cek, "k"));
	unsigned char *raw = NULL, *wrapped = NULL;
	size_t raw_len = 0, wlen = 0;
	int rc = -1;
	EVP_PKEY_CTX *ctx = oaep_ctx(jwk, md, true);
	if (ctx && k && rune_base64url_decode(k, strlen(k), &raw, &raw_len)
	    && EVP_PKEY_encrypt(ctx, NULL, &wlen, raw, raw_len) == 1) {
		wrapped = xmalloc(wlen);
		if (EVP_PKEY_encrypt(ctx, wrapped, &wlen, raw, raw_len) == 1) {
			cleanup_free char *ek = rune_base64url_encode(wrapped, wlen);
			json_object_set_new(jwe, "encrypted_key", json_string(ek));
			rc = 0;
		}
	}
	if (rc < 0)
		rune_error(err, 0, "RSA-OAEP key wrap failed (is the key an RSA public key?)");
	if (raw)
		OPENSSL_cleanse(raw, raw_len);
	free(raw);
	free(wrapped);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* libjose writes the ECDH-ES ephemeral key into the recipient's unprotected
 * header; Trustee's clients read it from the protected one. The protected
 * header is still an object until the content is encrypted, so move it. */
static void epk_to_protected(json_t *jwe)
{
	json_t *hdr = json_object_get(jwe, "header");
	json_t *epk = json_object_get(hdr, "epk");
	if (epk)
		json_object_set(json_object_get(jwe, "protected"), "epk", epk);
	json_object_del(hdr, "epk");
	if (json_is_object(hdr) && json_object_size(hdr) == 0)
		json_object_del(jwe, "header");
}

json_t *rune_jwe_encrypt(const json_t *jwk, const void *data, size_t len, rune_error_t *err)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *alg = json_string_value(json_object_get(jwk, "alg"));
	if (kty && strcmp(kty, "EC") == 0)
		alg = "ECDH-ES+A256KW";
	else if (kty && strcmp(kty, "RSA") == 0)
		alg = alg && strcmp(alg, "RSA1_5") == 0 ? "RSA1_5" : "RSA-OAEP-256";
	else {
		rune_error(err, 0, "the key is neither EC nor RSA (kty %s)", kty ? kty : "missing");
		return NULL;
	}
	json_t *jwe = json_pack("{s:{s:s,s:s}}", "protected", "alg", alg, "enc", "A256GCM");
	json_t *cek = json_pack("{s:s}", "alg", "A256GCM");
	json_t *pub = json_deep_copy(jwk);
	json_object_del(pub, "alg"); /* the header says it; libjose checks the two agree */
	bool ok = jose_jwk_gen(NULL, cek);
	const EVP_MD *md = oaep_md(alg);
	if (ok && md) {
		ok = oaep_wrap(jwe, pub, cek, md, err) == 0;
	} else if (ok) {
		ok = jose_jwe_enc_jwk(NULL, jwe, NULL, pub, cek);
		if (!ok)
			rune_error(err, 0, "%s key wrap failed (is the key a valid public key?)", alg);
		epk_to_protected(jwe);
	}
	if (ok && !jose_jwe_enc_cek(NULL, jwe, cek, data, len)) {
		ok = false;
		rune_error(err, 0, "A256GCM content encryption failed");
	}
	cek_free(cek);
	json_decref(pub);
	if (!ok) {
		json_decref(jwe);
		return NULL;
	}
	return jwe;
}
