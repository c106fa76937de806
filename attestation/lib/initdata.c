/* Init-data (TOML): the digest a TEE binds, over the raw bytes as sent, with
 * the document's own `algorithm`. Only the top-level keys are read here, by
 * line, before the first table; the [data] tables are the consumers'. */
#include <ctype.h>
#include <openssl/evp.h>
#include <string.h>

#include "initdata.h"
#include "util.h"

/* The string value of a top-level `key = "value"` line, or NULL. */
static char *top_level(const char *doc, size_t len, const char *key)
{
	const char *p = doc, *end = doc + len;
	size_t klen = strlen(key);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *le = nl ? nl : end;
		const char *s = p;
		while (s < le && isblank((unsigned char) *s))
			s++;
		if (s < le && *s == '[')
			return NULL; /* tables begin: no more top-level keys */
		if ((size_t) (le - s) > klen && strncmp(s, key, klen) == 0) {
			const char *v = s + klen;
			while (v < le && isblank((unsigned char) *v))
				v++;
			if (v < le && *v == '=') {
				v++;
				while (v < le && isblank((unsigned char) *v))
					v++;
				if (v < le && (*v == '"' || *v == '\'')) {
					const char *q = memchr(v + 1, *v, (size_t) (le - v - 1));
					if (q)
						return xasprintf("%.*s", (int) (q - v - 1), v + 1);
				}
			}
		}
		p = le + 1;
	}
	return NULL;
}

int attest_initdata_digest(const char *doc, size_t len, unsigned char out[64], size_t *out_len, const char **alg,
                           rune_error_t *err)
{
	char *version = top_level(doc, len, "version");
	char *a = top_level(doc, len, "algorithm");
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
	if (alg)
		*alg = md == EVP_sha256() ? "sha256" : md == EVP_sha384() ? "sha384" : "sha512";
	free(version);
	free(a);
	return rc;
}
