/* Init-data (TOML): the digest a TEE binds, over the raw bytes as sent, with
 * the document's own `algorithm`; its [data] documents (aa.toml, cdh.toml,
 * policy.rego) for their consumers. */
#include <openssl/evp.h>
#include <string.h>

#include "initdata.h"
#include "toml.h"
#include "util.h"

static const char *top_string(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

int attest_initdata_parse(const char *doc, size_t len, json_t **out, rune_error_t *err)
{
	json_t *v = NULL;
	if (attest_toml_parse(doc, len, "init-data", &v, err) < 0)
		return -1;
	json_t *data = json_object_get(v, "data");
	const char *k;
	json_t *m;
	if (data && !json_is_object(data)) {
		json_decref(v);
		return rune_error(err, 0, "init-data: data is not a table");
	}
	json_object_foreach(data, k, m) if (!json_is_string(m))
	{
		/* k belongs to v: named before v goes (a use after free fuzz_attest_initdata found) */
		rune_error(err, 0, "init-data: data.\"%s\" is not a string (a document of its own)", k);
		json_decref(v);
		return -1;
	}
	*out = v;
	return 0;
}

int attest_initdata_digest(const char *doc, size_t len, unsigned char out[64], size_t *out_len, const char **alg,
                           rune_error_t *err)
{
	json_t *v = NULL;
	if (attest_initdata_parse(doc, len, &v, err) < 0)
		return -1;
	const char *version = top_string(v, "version");
	const char *a = top_string(v, "algorithm");
	const EVP_MD *md = NULL;
	int rc = 0;
	if (version == NULL || strcmp(version, "0.1.0") != 0)
		rc = rune_error(err, 0, "init-data: version is %s%s%s (expected \"0.1.0\")", version ? "\"" : "",
		                version ? version : "missing", version ? "\"" : "");
	else if (a == NULL)
		rc = rune_error(err, 0, "init-data: algorithm is missing (sha256, sha384 or sha512)");
	else if ((md = strcmp(a, "sha256") == 0   ? EVP_sha256()
	               : strcmp(a, "sha384") == 0 ? EVP_sha384()
	               : strcmp(a, "sha512") == 0 ? EVP_sha512()
	                                          : NULL)
	         == NULL)
		rc = rune_error(err, 0, "init-data: algorithm \"%s\" (expected sha256, sha384 or sha512)", a);
	unsigned int n = 0;
	memset(out, 0, 64);
	if (rc == 0 && EVP_Digest(doc, len, out, &n, md, NULL) != 1)
		rc = rune_error(err, 0, "init-data: digest failed");
	*out_len = n;
	if (alg && rc == 0)
		*alg = md == EVP_sha256() ? "sha256" : md == EVP_sha384() ? "sha384" : "sha512";
	json_decref(v);
	return rc;
}
