/* Quote layouts (little-endian), from Intel's DCAP headers as
 * ../shared/reference/attestation-interfaces.md §4 gives them. */
#include "quote.h"

#include <string.h>

#include "encoding.h"
#include "util.h"

#define HEADER_LEN     48
#define SGX_BODY_LEN   384
#define TDX_BODY_LEN   584
#define QUOTE_MAX      (64 * 1024)
#define TEE_TYPE_SGX   0x00
#define TEE_TYPE_TDX   0x81
#define TDX_V5_BODY_10 2 /* TD report 1.0 */
#define TDX_V5_BODY_15 3 /* TD report 1.5: 64 more bytes at the end */

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static int parse_sgx(const unsigned char *d, size_t len, const char *what, struct quote *q, rune_error_t *err)
{
	const unsigned char *body = d + HEADER_LEN;
	if (len < HEADER_LEN + SGX_BODY_LEN + 4)
		return rune_error(err, 0, "%s: SGX quote truncated (%zu bytes, the header and report need %d)", what,
		                  len, HEADER_LEN + SGX_BODY_LEN + 4);
	uint32_t sig_len = le32(body + SGX_BODY_LEN);
	/* The signature data is the rest of the quote, exactly. */
	if (sig_len != len - (HEADER_LEN + SGX_BODY_LEN + 4))
		return rune_error(err, 0,
		                  "%s: SGX quote signature length %u does not match the quote's size (%zu bytes)", what,
		                  sig_len, len);
	q->kind = QUOTE_SGX;
	memcpy(q->mr_enclave, body + 64, 32);
	memcpy(q->mr_signer, body + 128, 32);
	memcpy(q->config_id, body + 192, 64);
	q->isv_prod_id = le16(body + 256);
	q->isv_svn = le16(body + 258);
	memcpy(q->report_data, body + 320, 64);
	return 0;
}

static int parse_tdx(const unsigned char *d, size_t len, const char *what, struct quote *q, rune_error_t *err)
{
	size_t off = HEADER_LEN, body_len = TDX_BODY_LEN;
	if (q->version == 5) {
		if (len < HEADER_LEN + 6)
			return rune_error(err, 0, "%s: TDX quote v5 truncated before its body descriptor", what);
		uint16_t type = le16(d + HEADER_LEN);
		uint32_t size = le32(d + HEADER_LEN + 2);
		if (type != TDX_V5_BODY_10 && type != TDX_V5_BODY_15)
			return rune_error(err, 0, "%s: TDX quote v5 body type %u is not a TD report (2 or 3)", what,
			                  type);
		if (size < TDX_BODY_LEN)
			return rune_error(err, 0, "%s: TDX quote v5 body size %u is smaller than a TD report (%d)",
			                  what, size, TDX_BODY_LEN);
		off += 6;
		body_len = size;
	}
	if (len < off + body_len + 4)
		return rune_error(err, 0, "%s: TDX quote truncated (%zu bytes, the header and TD report need %zu)",
		                  what, len, off + body_len + 4);
	const unsigned char *body = d + off;
	uint32_t sig_len = le32(body + body_len);
	if (sig_len != len - (off + body_len + 4))
		return rune_error(err, 0,
		                  "%s: TDX quote signature length %u does not match the quote's size (%zu bytes)", what,
		                  sig_len, len);
	q->kind = QUOTE_TDX;
	memcpy(q->mr_seam, body + 16, 48);
	memcpy(q->mr_td, body + 136, 48);
	memcpy(q->mr_config_id, body + 184, 48);
	for (int i = 0; i < 4; i++)
		memcpy(q->rtmr[i], body + 328 + 48 * i, 48);
	memcpy(q->report_data, body + 520, 64);
	return 0;
}

static int parse_sim(const unsigned char *d, size_t len, const char *what, struct quote *q, rune_error_t *err)
{
	if (len < SIM_QUOTE_BODY + 4)
		return rune_error(err, 0, "%s: simulation quote truncated (%zu bytes, at least %d)", what, len,
		                  SIM_QUOTE_BODY + 4);
	q->kind = QUOTE_SIM;
	q->version = (uint16_t) le32(d + 16);
	if (le32(d + 16) != 1)
		return rune_error(err, 0, "%s: simulation quote version %u (this build reads 1)", what, le32(d + 16));
	if (!(le32(d + 20) & 1))
		return rune_error(err, 0, "%s: simulation quote without its simulation flag", what);
	memcpy(q->mr_enclave, d + 24, 32);
	memcpy(q->config_id, d + 56, 64);
	memcpy(q->report_data, d + 120, 64);
	uint32_t sig_len = le32(d + SIM_QUOTE_BODY);
	if (sig_len == 0 || sig_len != len - SIM_QUOTE_BODY - 4)
		return rune_error(err, 0, "%s: simulation quote signature length %u does not match its size %zu", what,
		                  sig_len, len);
	q->signed_part = d;
	q->signed_len = SIM_QUOTE_BODY;
	q->signature = d + SIM_QUOTE_BODY + 4;
	q->signature_len = sig_len;
	return 0;
}

int attest_quote_parse(const unsigned char *d, size_t len, const char *what, struct quote *q, rune_error_t *err)
{
	memset(q, 0, sizeof(*q));
	if (len > QUOTE_MAX)
		return rune_error(err, 0, "%s: %zu bytes is larger than any quote (%d)", what, len, QUOTE_MAX);
	if (len >= 16 && memcmp(d, SIM_QUOTE_MAGIC, sizeof(SIM_QUOTE_MAGIC)) == 0)
		return parse_sim(d, len, what, q, err);
	if (len < HEADER_LEN)
		return rune_error(err, 0, "%s: %zu bytes is shorter than a quote header (%d)", what, len, HEADER_LEN);
	q->version = le16(d);
	uint16_t key_type = le16(d + 2);
	uint32_t tee = le32(d + 4);
	if (key_type != 2 && key_type != 3)
		return rune_error(err, 0, "%s: attestation key type %u is not ECDSA (2 or 3)", what, key_type);
	if (tee == TEE_TYPE_SGX && q->version == 3)
		return parse_sgx(d, len, what, q, err);
	if (tee == TEE_TYPE_TDX && (q->version == 4 || q->version == 5))
		return parse_tdx(d, len, what, q, err);
	return rune_error(err, 0,
	                  "%s: quote version %u for TEE type 0x%x is not one this build reads (SGX v3, TDX v4, v5)",
	                  what, q->version, tee);
}

int attest_quote_take_b64(unsigned char *q, size_t len, enum quote_kind kind, const char *what, char **b64,
                          rune_error_t *err)
{
	static const char *const names[] = { [QUOTE_SGX] = "SGX", [QUOTE_TDX] = "TDX", [QUOTE_SIM] = "simulation" };
	struct quote parsed;
	int rc = attest_quote_parse(q, len, what, &parsed, err);
	if (rc == 0 && parsed.kind != kind)
		rc = rune_error(err, 0, "%s: not a%s %s quote", what, kind == QUOTE_SGX ? "n" : "", names[kind]);
	if (rc == 0)
		*b64 = rune_base64_encode(q, len);
	free(q);
	return rc;
}

static void hex(json_t *o, const char *k, const unsigned char *p, size_t n)
{
	char *h = rune_hex_encode(p, n);
	json_object_set_new(o, k, json_string(h));
	free(h);
}

json_t *attest_quote_json(const struct quote *q)
{
	json_t *o = json_object();
	json_object_set_new(o, "version", json_integer(q->version));
	switch (q->kind) {
	case QUOTE_SGX:
		json_object_set_new(o, "type", json_string("sgx"));
		hex(o, "mr_enclave", q->mr_enclave, 32);
		hex(o, "mr_signer", q->mr_signer, 32);
		hex(o, "config_id", q->config_id, 64);
		json_object_set_new(o, "isv_prod_id", json_integer(q->isv_prod_id));
		json_object_set_new(o, "isv_svn", json_integer(q->isv_svn));
		break;
	case QUOTE_TDX:
		json_object_set_new(o, "type", json_string("tdx"));
		hex(o, "mr_seam", q->mr_seam, 48);
		hex(o, "mr_td", q->mr_td, 48);
		hex(o, "mr_config_id", q->mr_config_id, 48);
		for (int i = 0; i < 4; i++) {
			static const char *const names[] = { "rtmr_0", "rtmr_1", "rtmr_2", "rtmr_3" };
			hex(o, names[i], q->rtmr[i], 48);
		}
		break;
	case QUOTE_SIM:
		json_object_set_new(o, "type", json_string("sim (SIMULATION: no TEE protects this enclave)"));
		hex(o, "measurement", q->mr_enclave, 32);
		hex(o, "config_id", q->config_id, 64);
		break;
	}
	hex(o, "report_data", q->report_data, 64);
	return o;
}
