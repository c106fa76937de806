/* Verifiers: the simulation's signed quote and Trustee's `sample` evidence.
 * Hardware quotes need Intel's collateral, which a development KBS does not
 * fetch: those are refused with a pointer to Trustee. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "attest_ctx.h"
#include "cleanup.h"
#include "encoding.h"
#include "initdata.h"
#include "kbs.h"
#include "quote.h"
#include "util.h"

static bool all_zero(const unsigned char *p, size_t n)
{
	unsigned char acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int sample(struct kbs *k, json_t *primary, const unsigned char *rd, size_t rd_len, struct kbs_claims *c,
                  rune_error_t *err)
{
	const char *b64 = json_string_value(json_object_get(primary, "report_data"));
	cleanup_free unsigned char *got = NULL;
	size_t n = 0;
	if (!k->cfg.allow_sample)
		return rune_error(err, 0,
		                  "the sample TEE (insecure, no hardware) is refused: start rune-kbs with "
		                  "--allow-sample to accept it for development");
	if (b64 == NULL || !rune_base64_decode(b64, strlen(b64), &got, &n))
		return rune_error(err, 0, "sample evidence: report_data is missing or not base64");
	if (n != rd_len || CRYPTO_memcmp(got, rd, rd_len) != 0)
		return rune_error(err, 0,
		                  "sample evidence: report_data does not bind this session's nonce and tee-pubkey");
	c->simulation = true;
	/* sample has no field that binds init-data: nothing is claimed. */
	c->init_data[0] = '\0';
	return 0;
}

static int sim_signature(struct kbs *k, const struct quote *q, rune_error_t *err)
{
	if (k->sim_key == NULL)
		return rune_error(err, 0, "sim evidence: no simulation public key configured (--sim-key)");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->sim_key) == 1
	         && EVP_DigestVerify(ctx, q->signature, q->signature_len, q->signed_part, q->signed_len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0
	          : rune_error(err, 0, "sim evidence: the quote's signature does not verify with the simulation key");
}

static int sim(struct kbs *k, json_t *primary, const unsigned char *rd, size_t rd_len, const unsigned char *id,
               size_t id_len, struct kbs_claims *c, rune_error_t *err)
{
	const char *b64 = json_string_value(json_object_get(primary, "quote"));
	cleanup_free unsigned char *raw = NULL;
	size_t n = 0;
	struct quote q;
	if (b64 == NULL || !rune_base64_decode(b64, strlen(b64), &raw, &n))
		return rune_error(err, 0, "sim evidence: quote is missing or not base64");
	if (attest_quote_parse(raw, n, "sim evidence: quote", &q, err) < 0)
		return -1;
	if (q.kind != QUOTE_SIM)
		return rune_error(err, 0, "sim evidence: the quote is not a simulation quote");
	if (sim_signature(k, &q, err) < 0)
		return -1;
	if (CRYPTO_memcmp(q.report_data, rd, rd_len) != 0 || !all_zero(q.report_data + rd_len, 64 - rd_len))
		return rune_error(err, 0,
		                  "sim evidence: the quote's report_data does not bind this session's nonce and "
		                  "tee-pubkey");
	if (id_len && (memcmp(q.config_id, id, id_len) != 0 || !all_zero(q.config_id + id_len, 64 - id_len)))
		return rune_error(err, 0, "sim evidence: the init-data sent does not match the quote's config_id");
	if (!id_len && !all_zero(q.config_id, 64))
		return rune_error(err, 0, "sim evidence: the quote binds init-data (config_id) but none was sent");
	char *h = rune_hex_encode(q.mr_enclave, 32);
	snprintf(c->measurement, sizeof(c->measurement), "%s", h);
	free(h);
	c->simulation = true;
	return 0;
}

/* additional-evidence as the agent binds a verified image:
 * {"image": {"manifest_digest": "sha256:<hex>", "reference": "<ref>"}}. */
static int image_claim(const char *text, struct kbs_claims *c, rune_error_t *err)
{
	json_error_t je;
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &je), *img = json_object_get(v, "image");
	const char *ref = json_string_value(json_object_get(img, "reference"));
	const char *digest = json_string_value(json_object_get(img, "manifest_digest"));
	int rc = 0;
	if (!json_is_object(v) || json_object_size(v) != 1 || ref == NULL || digest == NULL)
		rc = rune_error(err, 0,
		                "tee-evidence.additional_evidence: rune-kbs reads only an image binding "
		                "{\"image\": {\"reference\", \"manifest_digest\"}}");
	else if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71
	         || strspn(digest + 7, "0123456789abcdef") != 64)
		rc = rune_error(err, 0,
		                "tee-evidence.additional_evidence: image.manifest_digest is not sha256:<64 hex>");
	else if (strlen(ref) >= sizeof(c->image_repository))
		rc = rune_error(err, 0, "tee-evidence.additional_evidence: image.reference too long");
	if (rc == 0) {
		/* The repository: the reference without @digest or :tag (a ':'
		 * after the last '/' is a tag; before it, a port). */
		size_t n = strcspn(ref, "@");
		const char *slash = memrchr(ref, '/', n), *colon = memrchr(ref, ':', n);
		if (colon && (slash == NULL || colon > slash))
			n = (size_t) (colon - ref);
		snprintf(c->image_repository, sizeof(c->image_repository), "%.*s", (int) n, ref);
		snprintf(c->image_digest, sizeof(c->image_digest), "%s", digest);
	}
	json_decref(v);
	return rc;
}

int kbs_verify(struct kbs *k, const char *tee, const char *nonce, json_t *att, struct kbs_claims *c, rune_error_t *err)
{
	json_t *rt = json_object_get(att, "runtime-data");
	json_t *ev = json_object_get(att, "tee-evidence");
	json_t *pub = json_object_get(rt, "tee-pubkey");
	json_t *primary = json_object_get(ev, "primary_evidence");
	const char *got_nonce = json_string_value(json_object_get(rt, "nonce"));
	json_t *add = json_object_get(ev, "additional_evidence");
	unsigned char rd[64], id[64];
	size_t rd_len = 0, id_len = 0;
	memset(c, 0, sizeof(*c));
	snprintf(c->tee, sizeof(c->tee), "%s", tee);
	if (got_nonce == NULL || strcmp(got_nonce, nonce) != 0)
		return rune_error(err, 0, "runtime-data.nonce does not match the challenge of this session");
	if (!json_is_object(pub) || !json_is_string(json_object_get(pub, "kty")))
		return rune_error(err, 0, "runtime-data.tee-pubkey is missing or not a JWK");
	if (!json_is_object(primary))
		return rune_error(err, 0, "tee-evidence.primary_evidence is missing or not an object");
	const char *additional = json_string_value(add);
	if (add && !json_is_string(add))
		return rune_error(err, 0, "tee-evidence.additional_evidence is not a string");
	if (additional && *additional && image_claim(additional, c, err) < 0)
		return -1;
	/* The report data binds the additional evidence too: a claim the
	 * evidence does not cover fails here. */
	if (attest_report_data(pub, nonce, additional, EVP_sha384(), rd, &rd_len, err) < 0)
		return -1;
	json_t *init = json_object_get(att, "init-data");
	if (init) {
		const char *fmt = json_string_value(json_object_get(init, "format"));
		const char *body = json_string_value(json_object_get(init, "body"));
		const char *alg = NULL;
		if (fmt == NULL || strcmp(fmt, "toml") != 0 || body == NULL)
			return rune_error(err, 0, "init-data: expected {\"format\": \"toml\", \"body\": \"...\"}");
		if (attest_initdata_digest(body, strlen(body), id, &id_len, &alg, err) < 0)
			return -1;
		char *h = rune_hex_encode(id, id_len);
		snprintf(c->init_data, sizeof(c->init_data), "%s", h);
		snprintf(c->init_data_alg, sizeof(c->init_data_alg), "%s", alg);
		free(h);
	}
	if (strcmp(tee, "sample") == 0)
		return sample(k, primary, rd, rd_len, c, err);
	if (strcmp(tee, "sim") == 0)
		return sim(k, primary, rd, rd_len, id, id_len, c, err);
	return rune_error(err, 0,
	                  "rune-kbs cannot verify %s evidence (a hardware quote needs Intel's collateral and a "
	                  "full verifier): use Trustee's KBS for hardware TEEs",
	                  tee);
}
