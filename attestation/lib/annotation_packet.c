/* The `attestation-agent` ocicrypt key provider's AnnotationPacket: layer
 * options sealed under a KEK the KBS holds at `kid`
 * (../shared/reference/image-security.md). v1 has kid, wrapped_data, iv,
 * wrap_type; v2 adds version, provider, provider_settings, annotations. */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "attest.h"
#include "cleanup.h"
#include "encoding.h"
#include "util.h"

#define PACKET_MAX (1 << 20)
#define OPTS_MAX   (1 << 16)
#define GCM_TAG    16

/* AES-256-GCM (wrapped = ciphertext || tag, 12-byte iv) or AES-256-CTR
 * (16-byte iv, no authentication: ocicrypt-rs reads it, so do we). */
static int unseal(const unsigned char kek[32], bool gcm, const unsigned char *iv, size_t iv_len,
                  const unsigned char *in, size_t n, unsigned char *out, rune_error_t *err)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l = 0, l2 = 0, ok;
	size_t ct = gcm ? n - GCM_TAG : n;
	ok = ctx && EVP_DecryptInit_ex(ctx, gcm ? EVP_aes_256_gcm() : EVP_aes_256_ctr(), NULL, NULL, NULL) == 1
	     && (!gcm || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int) iv_len, NULL) == 1)
	     && EVP_DecryptInit_ex(ctx, NULL, NULL, kek, iv) == 1 && EVP_DecryptUpdate(ctx, out, &l, in, (int) ct) == 1
	     && (!gcm || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG, (void *) (in + ct)) == 1)
	     && EVP_DecryptFinal_ex(ctx, out + l, &l2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(out, ct);
		return rune_error(err, 0, "the wrapped options do not open with the KEK (%s)",
		                  gcm ? "GCM tag mismatch: wrong KEK or altered packet" : "AES-256-CTR failed");
	}
	return 0;
}

static int b64_field(json_t *p, const char *name, size_t max, unsigned char **out, size_t *len, rune_error_t *err)
{
	const char *s = json_string_value(json_object_get(p, name));
	if (s == NULL)
		return rune_error(err, 0, "AnnotationPacket: %s is missing or not a string", name);
	if (strlen(s) > max * 2 || !rune_base64_decode(s, strlen(s), out, len))
		return rune_error(err, 0, "AnnotationPacket: %s is not base64 (or longer than %zu bytes)", name, max);
	return 0;
}

int attest_unwrap_annotation_packet(struct attest_ctx *c, const char *packet, size_t len, unsigned char **opts,
                                    size_t *opts_len, rune_error_t *err)
{
	json_error_t je;
	if (len > PACKET_MAX)
		return rune_error(err, 0, "AnnotationPacket: %zu bytes (at most %d)", len, PACKET_MAX);
	json_t *p = json_loadb(packet, len, JSON_REJECT_DUPLICATES, &je);
	cleanup_free unsigned char *iv = NULL, *wrapped = NULL;
	size_t iv_len = 0, w_len = 0, kek_len = 0;
	unsigned char *kek = NULL;
	int rc = -1;
	const char *kid = json_string_value(json_object_get(p, "kid"));
	const char *wrap = json_string_value(json_object_get(p, "wrap_type"));
	bool gcm = wrap && strcmp(wrap, "A256GCM") == 0;
	if (!json_is_object(p))
		rune_error(err, 0, "AnnotationPacket: not a JSON object%s%s", p ? "" : ": ", p ? "" : je.text);
	else if (kid == NULL)
		rune_error(err, 0, "AnnotationPacket: kid is missing");
	else if (!gcm && !(wrap && strcmp(wrap, "A256CTR") == 0))
		rune_error(err, 0, "AnnotationPacket: wrap_type %s (expected A256GCM or A256CTR)",
		           wrap ? wrap : "missing");
	else if (b64_field(p, "iv", 16, &iv, &iv_len, err) == 0
	         && b64_field(p, "wrapped_data", OPTS_MAX, &wrapped, &w_len, err) == 0) {
		if (iv_len != (gcm ? 12u : 16u))
			rune_error(err, 0, "AnnotationPacket: iv is %zu bytes (%s wants %d)", iv_len, wrap,
			           gcm ? 12 : 16);
		else if (w_len > OPTS_MAX || (gcm && w_len <= GCM_TAG))
			rune_error(err, 0, "AnnotationPacket: wrapped_data is %zu bytes", w_len);
		else if (attest_get_resource(c, kid, 4096, &kek, &kek_len, err) < 0)
			rune_error_wrap(err, "the KEK %s", kid);
		else if (kek_len != 32)
			rune_error(err, 0, "the KEK %s is %zu bytes, not 32 (AES-256)", kid, kek_len);
		else {
			*opts = xmalloc(w_len + 1);
			rc = unseal(kek, gcm, iv, iv_len, wrapped, w_len, *opts, err);
			if (rc == 0) {
				*opts_len = gcm ? w_len - GCM_TAG : w_len;
				(*opts)[*opts_len] = '\0';
			} else {
				free(*opts);
				*opts = NULL;
				rune_error_wrap(err, "the KEK %s", kid);
			}
		}
	}
	attest_secret_free(kek, kek_len);
	json_decref(p);
	return rc < 0 ? rune_error_wrap(err, "unwrapping the layer key") : 0;
}

int attest_wrap_annotation_packet(const unsigned char kek[32], const char *kid, const unsigned char *opts,
                                  size_t opts_len, char **packet, rune_error_t *err)
{
	unsigned char iv[12];
	int l = 0, l2 = 0;
	if (opts_len > OPTS_MAX)
		return rune_error(err, 0, "AnnotationPacket: %zu bytes of options (at most %d)", opts_len, OPTS_MAX);
	unsigned char *out = xmalloc(opts_len + GCM_TAG);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	bool ok =
	    ctx && RAND_bytes(iv, sizeof(iv)) == 1 && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, iv) == 1
	    && EVP_EncryptUpdate(ctx, out, &l, opts, (int) opts_len) == 1 && EVP_EncryptFinal_ex(ctx, out + l, &l2) == 1
	    && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG, out + opts_len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		free(out);
		return rune_error(err, 0, "AnnotationPacket: AES-256-GCM sealing failed");
	}
	cleanup_free char *w64 = rune_base64_encode(out, opts_len + GCM_TAG);
	cleanup_free char *iv64 = rune_base64_encode(iv, sizeof(iv));
	free(out);
	json_t *p =
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{},s:{}}", "version", "0.1.0", "kid", kid, "wrapped_data", w64, "iv",
	              iv64, "wrap_type", "A256GCM", "provider", "kbs", "provider_settings", "annotations");
	*packet = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return 0;
}
