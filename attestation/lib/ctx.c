/* The attestation context: the KBS address (given or from aa_kbc_params),
 * the evidence provider, the ephemeral key; evidence for debugging. */
#include <jose/jose.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "attest_ctx.h"
#include "cleanup.h"
#include "encoding.h"
#include "quote.h"
#include "util.h"

#define KBC_PREFIX "cc_kbc::"

/* aa_kbc_params = "cc_kbc::URL" from $AA_KBC_PARAMS, else the kernel command
 * line's agent.aa_kbc_params=. */
static int kbc_url(const char *root, char **url, rune_error_t *err)
{
	const char *env = getenv("AA_KBC_PARAMS");
	cleanup_free char *cmdline = NULL, *path = attest_path(root, "/proc/cmdline");
	const char *v = env, *from = "$AA_KBC_PARAMS";
	size_t n = env ? strlen(env) : 0, len = 0;
	if (v == NULL) {
		cleanup_error rune_error_t e = NULL;
		if (rune_read_file(path, 64 * 1024, &cmdline, &len, &e) == 0) {
			static const char key[] = "agent.aa_kbc_params=";
			for (char *p = cmdline; (p = strstr(p, key)) != NULL; p++)
				if (p == cmdline || p[-1] == ' ') {
					v = p + sizeof(key) - 1;
					n = strcspn(v, " \n");
					from = path;
					break;
				}
		}
	}
	if (v == NULL)
		return rune_error(err, 0,
		                  "no KBS URL: give --url, or set $AA_KBC_PARAMS or agent.aa_kbc_params= on the "
		                  "kernel command line (cc_kbc::http://HOST:PORT)");
	if (n < sizeof(KBC_PREFIX) || strncmp(v, KBC_PREFIX, sizeof(KBC_PREFIX) - 1) != 0)
		return rune_error(err, 0,
		                  "%s: aa_kbc_params \"%.*s\" is not cc_kbc::URL (the only KBC this agent speaks)",
		                  from, (int) n, v);
	*url = xasprintf("%.*s", (int) (n - (sizeof(KBC_PREFIX) - 1)), v + sizeof(KBC_PREFIX) - 1);
	return 0;
}

static int make_key(struct attest_ctx *c, const char *type, rune_error_t *err)
{
	const char *alg = "ECDH-ES+A256KW";
	if (type == NULL || strcmp(type, "ec") == 0 || strcmp(type, "ec-p256") == 0)
		c->key = json_pack("{s:s,s:s}", "kty", "EC", "crv", "P-256");
	else if (strcmp(type, "ec-p521") == 0)
		c->key = json_pack("{s:s,s:s}", "kty", "EC", "crv", "P-521");
	else if (strcmp(type, "rsa") == 0) {
		c->key = json_pack("{s:s,s:i}", "kty", "RSA", "bits", 3072);
		alg = "RSA-OAEP-256";
	} else
		return rune_error(err, 0, "key type %s: expected ec, ec-p521 or rsa", type);
	if (!jose_jwk_gen(NULL, c->key))
		return rune_error(err, 0, "generating the ephemeral %s key failed", type ? type : "ec");
	/* tee-pubkey carries exactly the public members and alg. */
	if (strcmp(json_string_value(json_object_get(c->key, "kty")), "EC") == 0)
		c->pub = json_pack("{s:s,s:O,s:s,s:O,s:O}", "kty", "EC", "crv", json_object_get(c->key, "crv"), "alg",
		                   alg, "x", json_object_get(c->key, "x"), "y", json_object_get(c->key, "y"));
	else
		c->pub = json_pack("{s:s,s:s,s:O,s:O}", "kty", "RSA", "alg", alg, "n", json_object_get(c->key, "n"),
		                   "e", json_object_get(c->key, "e"));
	return c->pub ? 0 : rune_error(err, 0, "the ephemeral key has no public half");
}

int attest_ctx_new(const struct attest_options *o, struct attest_ctx **out, rune_error_t *err)
{
	struct attest_ctx *c = xcalloc(1, sizeof(*c));
	c->root = o->root && *o->root ? xstrdup(o->root) : NULL;
	c->cert_file = o->cert_file ? xstrdup(o->cert_file) : NULL;
	c->connect_attempts = o->connect_attempts > 0 ? o->connect_attempts : o->connect_attempts < 0 ? 1 : 5;
	c->timeout = o->timeout > 0 ? o->timeout : 30;
	if (o->url)
		c->url = xstrdup(o->url);
	else if (kbc_url(c->root, &c->url, err) < 0)
		goto fail;
	size_t n = strlen(c->url);
	while (n && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
		rune_error(err, 0, "KBS URL %s: expected http:// or https://", c->url);
		goto fail;
	}
	if (o->tee) {
		c->provider = attest_provider_by_name(o->tee);
		if (c->provider == NULL) {
			rune_error(err, 0, "--tee %s: unknown evidence provider (known: %s)", o->tee, ATTEST_TEES);
			goto fail;
		}
	} else if ((c->provider = attest_provider_detect(c->root)) == NULL) {
		rune_error(err, 0,
		           "no TEE found: no SGX (Gramine's /dev/attestation or Occlum's /dev/sgx), no TDX "
		           "(configfs-tsm), no simulation enclave; name one with --tee (\"sample\" is Trustee's "
		           "insecure development TEE)");
		goto fail;
	}
	if (o->initdata) {
		c->initdata = xmalloc(o->initdata_len + 1);
		memcpy(c->initdata, o->initdata, o->initdata_len);
		c->initdata[o->initdata_len] = '\0';
		c->initdata_len = o->initdata_len;
		if (strlen(c->initdata) != c->initdata_len) {
			rune_error(err, 0, "init-data: contains a NUL byte (it is a TOML text)");
			goto fail;
		}
	}
	if (make_key(c, o->key_type, err) < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	attest_ctx_free(c);
	return -1;
}

static void wipe_json_strings(json_t *o)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) if (json_is_string(v))
	    OPENSSL_cleanse((char *) json_string_value(v), json_string_length(v));
}

void attest_ctx_free(struct attest_ctx *c)
{
	if (c == NULL)
		return;
	attest_token_release(c);
	wipe_json_strings(c->key);
	json_decref(c->key);
	json_decref(c->pub);
	free(c->url);
	free(c->additional);
	free(c->cert_file);
	free(c->root);
	free(c->initdata);
	free(c);
}

const char *attest_provider(const struct attest_ctx *c)
{
	return c->provider->name;
}

const char *attest_kbs_tee(const struct attest_ctx *c)
{
	return c->provider->kbs_tee;
}

int attest_evidence(struct attest_ctx *c, const char *nonce, char **out, rune_error_t *err)
{
	unsigned char rd[64], raw[32];
	size_t rd_len = 0;
	json_t *primary = NULL;
	cleanup_free char *gen = NULL;
	if (nonce == NULL) {
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return rune_error(err, 0, "no random bytes for a nonce");
		nonce = gen = rune_base64_encode(raw, sizeof(raw));
	}
	if (attest_report_data(c->pub, nonce, c->additional, EVP_sha384(), rd, &rd_len, err) < 0
	    || c->provider->evidence(c->root, rd, rd_len, &primary, err) < 0)
		return -1;
	cleanup_free char *rd_hex = rune_hex_encode(rd, 64);
	json_t *o = json_pack("{s:s,s:s,s:s,s:O,s:s,s:o}", "provider", c->provider->name, "tee", c->provider->kbs_tee,
	                      "nonce", nonce, "tee-pubkey", c->pub, "report_data", rd_hex, "primary_evidence", primary);
	const char *q64 = json_string_value(json_object_get(primary, "quote"));
	unsigned char *q = NULL;
	size_t qn = 0;
	struct quote parsed;
	cleanup_error rune_error_t qerr = NULL;
	if (q64 && rune_base64_decode(q64, strlen(q64), &q, &qn)) {
		if (attest_quote_parse(q, qn, "quote", &parsed, &qerr) == 0)
			json_object_set_new(o, "quote", attest_quote_json(&parsed));
		else
			json_object_set_new(o, "quote_error", json_string(qerr->msg));
	}
	free(q);
	*out = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	return 0;
}
