/* Opening encrypted layers: every recipient of every scheme a layer offers,
 * against every key that can open that scheme, until one yields the layer's
 * options (symmetric key, nonce, plaintext digest). Nothing is skipped: a
 * layer no key opens is an error naming the layer, its schemes and the keys
 * tried. */
#include "decrypt.h"

#include <errno.h>
#include <jose/jose.h>
#include <jose/openssl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "encoding.h"
#include "jwe.h"
#include "gpg.h"
#include "json.h"
#include "keyprovider.h"
#include "pkcs7.h"
#include "util.h"

#define KEY_MAX        (1 << 20) /* bytes of a key file */
#define ANNOTATION_MAX (1 << 20) /* bytes of one key annotation */
#define RECIPIENTS_MAX 64
#define OPTS_MAX       (1 << 16) /* bytes of unwrapped options */

enum key_kind { KEY_PRIVATE, KEY_CERT, KEY_JWK, KEY_PGP, KEY_PROVIDER };

struct dec_key {
	enum key_kind kind;
	char *name; /* "--decryption-key /k/rsa.pem" */
	EVP_PKEY *pkey;
	X509 *cert;
	json_t *jwk;
	unsigned char *pgp;
	size_t pgp_len;
	char *password;
	char *provider, *params;
};

struct decrypt_keys {
	struct dec_key *v;
	size_t n;
	struct keyprovider_conf *providers;
};

/* ---- loading keys ---- */

static int pem_password(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	if (pw == NULL)
		return -1;
	int n = (int) strlen(pw);
	if (n > size)
		return -1;
	memcpy(buf, pw, n);
	return n;
}

static EVP_PKEY *private_key(const unsigned char *data, size_t len, const char *password)
{
	BIO *b = BIO_new_mem_buf(data, (int) len);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, pem_password, (void *) password);
	if (k == NULL) {
		const unsigned char *p = data;
		k = d2i_AutoPrivateKey(NULL, &p, (long) len);
	}
	if (k == NULL) {
		BIO_reset(b);
		k = d2i_PKCS8PrivateKey_bio(b, NULL, pem_password, (void *) password);
	}
	BIO_free(b);
	return k;
}

static X509 *certificate(const unsigned char *data, size_t len)
{
	BIO *b = BIO_new_mem_buf(data, (int) len);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (x == NULL) {
		const unsigned char *p = data;
		x = d2i_X509(NULL, &p, (long) len);
	}
	return x;
}

static bool pgp_secret(const unsigned char *d, size_t len)
{
	static const char armor[] = "-----BEGIN PGP PRIVATE KEY BLOCK-----";
	if (len >= sizeof(armor) - 1 && memmem(d, len < 256 ? len : 256, armor, sizeof(armor) - 1))
		return true;
	/* binary: the first packet a secret key (tag 5) */
	return len > 0 && (d[0] & 0x80) && (d[0] & 0x40 ? (d[0] & 0x3f) == 5 : ((d[0] >> 2) & 0x0f) == 5);
}

/* A password as ocicrypt takes it: "pass=...", "file=PATH" (first line), or literal. */
static int password_of(const char *spec, char **out, rune_error_t *err)
{
	if (strncmp(spec, "file=", 5) == 0) {
		char *data = NULL;
		size_t n;
		if (rune_read_file(spec + 5, 4096, &data, &n, err) < 0)
			return -1;
		data[strcspn(data, "\r\n")] = '\0';
		*out = data;
		return 0;
	}
	*out = xstrdup(strncmp(spec, "pass=", 5) == 0 ? spec + 5 : spec);
	return 0;
}

static int classify(struct dec_key *k, const unsigned char *data, size_t len, rune_error_t *err)
{
	json_error_t je;
	json_t *j = len && data[0] == '{' ? json_loadb((const char *) data, len, 0, &je) : NULL;
	if (j && json_is_string(json_object_get(j, "kty"))) {
		if (!json_object_get(j, "d")) {
			json_decref(j);
			return rune_error(err, 0, "%s: a public JWK (a private one, with \"d\", opens layers)",
			                  k->name);
		}
		k->kind = KEY_JWK;
		k->jwk = j;
		if (strcmp(json_string_value(json_object_get(j, "kty")), "RSA") == 0)
			k->pkey = jose_openssl_jwk_to_EVP_PKEY(NULL, j);
		return 0;
	}
	if (j)
		json_decref(j);
	if (pgp_secret(data, len)) {
		k->kind = KEY_PGP;
		k->pgp = xmalloc(len);
		memcpy(k->pgp, data, len);
		k->pgp_len = len;
		return 0;
	}
	if ((k->pkey = private_key(data, len, k->password)) != NULL) {
		k->kind = KEY_PRIVATE;
		/* libjose unwraps JWE with a JWK; RSA and EC keys have one. */
		int id = EVP_PKEY_get_base_id(k->pkey);
		if (id == EVP_PKEY_RSA || id == EVP_PKEY_EC)
			k->jwk = jose_openssl_jwk_from_EVP_PKEY(NULL, k->pkey);
		return 0;
	}
	if ((k->cert = certificate(data, len)) != NULL) {
		k->kind = KEY_CERT;
		return 0;
	}
	return rune_error(err, 0, "%s: not a private key (PEM or DER%s), certificate, private JWK or GPG secret key",
	                  k->name, k->password ? "" : "; a password-protected key needs KEY:PASSWORD");
}

static int load_key(const struct image_decryption_key *in, struct dec_key *k, rune_error_t *err)
{
	const char *spec = in->spec ? in->spec : "(in memory)";
	k->name = xasprintf("--decryption-key %s", spec);
	if (strncmp(spec, "provider:", 9) == 0) {
		const char *rest = spec + 9, *colon = strchr(rest, ':');
		k->kind = KEY_PROVIDER;
		k->provider = colon ? strndup(rest, colon - rest) : xstrdup(rest);
		k->params = colon ? xstrdup(colon + 1) : NULL;
		return 0;
	}
	cleanup_free char *path = NULL;
	if (in->data == NULL) {
		/* FILE[:PASSWORD]: the whole spec when it names a file, else split at the first ':'. */
		const char *colon = strchr(spec, ':');
		if (access(spec, F_OK) == 0 || colon == NULL) {
			path = xstrdup(spec);
		} else {
			path = strndup(spec, colon - spec);
			free(k->name);
			k->name = xasprintf("--decryption-key %s", path);
			if (password_of(colon + 1, &k->password, err) < 0)
				return rune_error_wrap(err, "%s", k->name);
		}
	} else if (in->password) {
		k->password = xstrdup(in->password);
	}
	cleanup_free char *data = NULL;
	size_t len = in->len;
	if (in->data == NULL && rune_read_file(path, KEY_MAX, &data, &len, err) < 0)
		return rune_error_wrap(err, "%s", k->name);
	int rc = classify(k, in->data ? in->data : (unsigned char *) data, len, err);
	if (data)
		OPENSSL_cleanse(data, len);
	return rc;
}

static void keys_free(struct decrypt_keys *ks)
{
	if (ks == NULL)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		struct dec_key *k = &ks->v[i];
		free(k->name);
		EVP_PKEY_free(k->pkey);
		X509_free(k->cert);
		if (k->jwk)
			json_decref(k->jwk);
		if (k->pgp)
			OPENSSL_cleanse(k->pgp, k->pgp_len);
		free(k->pgp);
		if (k->password)
			OPENSSL_cleanse(k->password, strlen(k->password));
		free(k->password);
		free(k->provider);
		free(k->params);
	}
	free(ks->v);
	image_keyprovider_free(ks->providers);
	free(ks);
}

void image_decrypt_release(struct image_ctx *c)
{
	keys_free(c->decrypt_keys);
	c->decrypt_keys = NULL;
}

static int keys_load(struct image_ctx *c, rune_error_t *err)
{
	if (c->decrypt_keys)
		return 0;
	struct decrypt_keys *ks = xcalloc(1, sizeof(*ks));
	ks->v = xcalloc(c->o.n_decryption_keys + 1, sizeof(*ks->v));
	int rc = image_keyprovider_load(&ks->providers, err);
	for (size_t i = 0; rc == 0 && i < c->o.n_decryption_keys; i++, ks->n++)
		rc = load_key(&c->o.decryption_keys[i], &ks->v[i], err);
	if (rc < 0) {
		ks->n++;
		keys_free(ks);
		return -1;
	}
	c->decrypt_keys = ks;
	return 0;
}

int image_decryption_available(struct image_ctx *c, bool *available, rune_error_t *err)
{
	if (keys_load(c, err) < 0)
		return -1;
	*available = c->decrypt_keys->n > 0 || c->o.unwrap_key != NULL;
	return 0;
}

/* ---- unwrapping one recipient ---- */

/* What a try came to, for the error when nothing opens the layer. */
struct tries {
	char *text;
};

static void tried(struct tries *t, const char *scheme, const char *key, const char *why)
{
	char *more = xasprintf("%s%s%s (%s): %s", t->text ? t->text : "", t->text ? "; " : "", key, scheme, why);
	free(t->text);
	t->text = more;
}

static char *unwrap_jwe(const struct decrypt_keys *ks, const unsigned char *blob, size_t len, size_t *out_len,
                        const char **by, struct tries *t)
{
	json_error_t je;
	json_t *jwe = json_loadb((const char *) blob, len, 0, &je);
	if (!json_is_object(jwe)) {
		tried(t, "jwe", "the annotation", "not a JSON object");
		json_decref(jwe);
		return NULL;
	}
	char *opts = NULL;
	bool any = false;
	for (size_t i = 0; i < ks->n && opts == NULL; i++) {
		const struct dec_key *k = &ks->v[i];
		const char *why = NULL;
		if (k->jwk == NULL)
			continue;
		any = true;
		opts = (char *) rune_jwe_decrypt(jwe, k->jwk, OPTS_MAX, out_len, &why);
		if (opts)
			*by = k->name;
		else
			tried(t, "jwe", k->name, why);
	}
	if (!any)
		tried(t, "jwe", "no RSA or EC private key or JWK given", "nothing to try");
	json_decref(jwe);
	return opts;
}

static char *unwrap_pkcs7(const struct decrypt_keys *ks, const unsigned char *blob, size_t len, size_t *out_len,
                          const char **by, struct tries *t)
{
	char *opts = NULL;
	bool any = false;
	/* A certificate and the private key it certifies make one recipient. */
	for (size_t i = 0; i < ks->n && opts == NULL; i++) {
		if (ks->v[i].cert == NULL)
			continue;
		for (size_t k = 0; k < ks->n && opts == NULL; k++) {
			if (ks->v[k].pkey == NULL || EVP_PKEY_eq(X509_get0_pubkey(ks->v[i].cert), ks->v[k].pkey) != 1)
				continue;
			const char *why = NULL;
			any = true;
			opts = image_pkcs7_decrypt(blob, len, ks->v[k].pkey, ks->v[i].cert, OPTS_MAX, out_len, &why);
			if (opts)
				*by = ks->v[k].name;
			else
				tried(t, "pkcs7", ks->v[i].name, why);
		}
	}
	if (!any)
		tried(t, "pkcs7", "no certificate with its private key given", "nothing to try");
	return opts;
}

static char *unwrap_pgp(const struct decrypt_keys *ks, const unsigned char *blob, size_t len, size_t *out_len,
                        const char **by, struct tries *t)
{
	struct gpg_secret secrets[16];
	size_t n = 0;
	for (size_t i = 0; i < ks->n && n < ARRAY_SIZE(secrets); i++)
		if (ks->v[i].pgp)
			secrets[n++] =
			    (struct gpg_secret){ ks->v[i].name, ks->v[i].pgp, ks->v[i].pgp_len, ks->v[i].password };
	if (n == 0) {
		tried(t, "pgp", "no GPG secret key given", "nothing to try");
		return NULL;
	}
	char *opts = NULL, *why = NULL;
	const char *which = NULL;
	if (image_gpg_decrypt(secrets, n, blob, len, OPTS_MAX, &opts, out_len, &which, &why) < 0) {
		tried(t, "pgp", n == 1 ? secrets[0].name : "the GPG secret keys given", why);
		free(why);
		return NULL;
	}
	*by = which;
	return opts;
}

static char *unwrap_provider(const struct decrypt_keys *ks, const char *name, const unsigned char *blob, size_t len,
                             size_t *out_len, const char **by, struct tries *t, rune_error_t *err)
{
	const char *params = NULL;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->v[i].provider && strcmp(ks->v[i].provider, name) == 0)
			params = ks->v[i].params;
	char *opts = NULL;
	int r = image_keyprovider_unwrap(ks->providers, name, params, blob, len, &opts, out_len, err);
	if (r < 0) {
		tried(t, "provider", name, (*err)->msg);
		rune_error_release(err);
		return NULL;
	}
	if (r == 0) {
		tried(t, "provider", name, "not configured in OCICRYPT_KEYPROVIDER_CONFIG");
		return NULL;
	}
	*by = "its key provider";
	return opts;
}

/* ---- the layer's options ---- */

static bool b64_exact(yajl_val v, unsigned char *out, size_t want)
{
	unsigned char *raw = NULL;
	size_t n = 0;
	bool ok = YAJL_IS_STRING(v) && rune_base64_decode(v->u.string, strlen(v->u.string), &raw, &n) && n == want;
	if (ok)
		memcpy(out, raw, want);
	if (raw)
		OPENSSL_cleanse(raw, n);
	free(raw);
	return ok;
}

/* optsdata: {"symkey": b64 32, "digest": "sha256:…", "cipheroptions": {"nonce": b64 16}}. */
static int parse_opts(const char *opts, size_t len, const char *layer, struct layer_secret *s, rune_error_t *err)
{
	yajl_val tree = NULL;
	cleanup_error rune_error_t perr = NULL;
	int rc = -1;
	if (memchr(opts, '\0', len) == NULL && rune_json_parse(opts, "options", &tree, &perr) == 0) {
		yajl_val digest = rune_json_get(tree, "digest");
		if (b64_exact(rune_json_get(tree, "symkey"), s->key, 32)
		    && b64_exact(rune_json_get(rune_json_get(tree, "cipheroptions"), "nonce"), s->nonce, 16)
		    && YAJL_IS_STRING(digest) && image_digest_validate(digest->u.string, layer, &perr) == 0) {
			s->digest = xstrdup(digest->u.string);
			rc = 0;
		}
	}
	if (tree)
		yajl_tree_free(tree);
	if (rc < 0)
		rune_error(err, 0,
		           "layer %s: the unwrapped options are not {symkey (32 bytes), digest, cipheroptions.nonce "
		           "(16 bytes)}",
		           layer);
	return rc;
}

/* pubopts: {"cipher": "AES_256_CTR_HMAC_SHA256", "hmac": b64 32, "cipheroptions": {}}. */
static int parse_pubopts(const struct descriptor *d, struct layer_secret *s, rune_error_t *err)
{
	yajl_val v = rune_json_get(d->annotations, ENC_PUBOPTS);
	if (!YAJL_IS_STRING(v))
		return rune_error(err, 0, "layer %s: encrypted, but no %s annotation", d->digest, ENC_PUBOPTS);
	unsigned char *raw = NULL;
	size_t n = 0;
	yajl_val tree = NULL;
	cleanup_error rune_error_t perr = NULL;
	int rc = -1;
	if (strlen(v->u.string) <= ANNOTATION_MAX && rune_base64_decode(v->u.string, strlen(v->u.string), &raw, &n)
	    && memchr(raw, '\0', n) == NULL && rune_json_parse((char *) raw, ENC_PUBOPTS, &tree, &perr) == 0) {
		yajl_val cipher = rune_json_get(tree, "cipher");
		if (!YAJL_IS_STRING(cipher))
			rc = rune_error(err, 0, "layer %s: %s names no cipher", d->digest, ENC_PUBOPTS);
		else if (strcmp(cipher->u.string, "AES_256_CTR_HMAC_SHA256") != 0)
			rc = rune_error(err, 0,
			                "layer %s: unknown cipher %s (AES_256_CTR_HMAC_SHA256 is the one defined)",
			                d->digest, cipher->u.string);
		else if (!b64_exact(rune_json_get(tree, "hmac"), s->hmac, 32))
			rc = rune_error(err, 0, "layer %s: %s: hmac is not 32 bytes of base64", d->digest, ENC_PUBOPTS);
		else
			rc = 0;
	} else {
		rc = rune_error(err, 0, "layer %s: %s is not base64 JSON", d->digest, ENC_PUBOPTS);
	}
	if (tree)
		yajl_tree_free(tree);
	free(raw);
	return rc;
}

/* Try every recipient of one scheme's annotation. */
static char *open_scheme(struct image_ctx *c, const char *scheme, const char *value, size_t *len, const char **by,
                         struct tries *t, rune_error_t *err)
{
	const struct decrypt_keys *ks = c->decrypt_keys;
	char *opts = NULL;
	cleanup_free char *copy = xstrdup(value);
	size_t count = 0;
	for (char *save = NULL, *b64 = strtok_r(copy, ",", &save); b64 && !opts; b64 = strtok_r(NULL, ",", &save)) {
		unsigned char *blob = NULL;
		size_t n = 0;
		if (++count > RECIPIENTS_MAX) {
			tried(t, scheme, "the annotation", "too many recipients");
			break;
		}
		if (!rune_base64_decode(b64, strlen(b64), &blob, &n)) {
			tried(t, scheme, "the annotation", "a recipient that is not base64");
			continue;
		}
		if (strcmp(scheme, "jwe") == 0)
			opts = unwrap_jwe(ks, blob, n, len, by, t);
		else if (strcmp(scheme, "pkcs7") == 0)
			opts = unwrap_pkcs7(ks, blob, n, len, by, t);
		else if (strcmp(scheme, "pgp") == 0)
			opts = unwrap_pgp(ks, blob, n, len, by, t);
		else if (strncmp(scheme, "provider.", 9) == 0)
			opts = unwrap_provider(ks, scheme + 9, blob, n, len, by, t, err);
		else
			tried(t, scheme, "this scheme", "not supported (pkcs11 needs a hardware token)");
		if (opts == NULL && c->o.unwrap_key) {
			int r = c->o.unwrap_key(scheme, blob, n, &opts, len, c->o.unwrap_key_arg, err);
			if (r < 0) {
				tried(t, scheme, "the embedder's unwrap callback", (*err)->msg);
				rune_error_release(err);
				opts = NULL;
			} else if (r == 1) {
				*by = "the embedder's unwrap callback";
			}
		}
		OPENSSL_cleanse(blob, n);
		free(blob);
	}
	return opts;
}

int image_layer_open(struct image_ctx *c, const struct descriptor *d, struct layer_secret *s, rune_error_t *err)
{
	memset(s, 0, sizeof(*s));
	if (keys_load(c, err) < 0 || parse_pubopts(d, s, err) < 0)
		return -1;
	yajl_val ann = d->annotations;
	struct tries t = { 0 };
	cleanup_free char *schemes = NULL;
	char *opts = NULL;
	size_t len = 0;
	const char *by = NULL;
	size_t prefix = strlen(ENC_ANNOTATION_PREFIX);
	for (size_t i = 0; YAJL_IS_OBJECT(ann) && i < ann->u.object.len && !opts; i++) {
		const char *k = ann->u.object.keys[i];
		yajl_val v = ann->u.object.values[i];
		if (strncmp(k, ENC_ANNOTATION_PREFIX, prefix) != 0)
			continue;
		char *more = xasprintf("%s%s%s", schemes ? schemes : "", schemes ? ", " : "", k + prefix);
		free(schemes);
		schemes = more;
		if (!YAJL_IS_STRING(v) || strlen(v->u.string) > ANNOTATION_MAX) {
			tried(&t, k + prefix, "the annotation", "not a string of at most 1 MiB");
			continue;
		}
		opts = open_scheme(c, k + prefix, v->u.string, &len, &by, &t, err);
		if (opts)
			s->opened_by = xasprintf("%s, %s", k + prefix, by);
	}
	int rc = 0;
	bool nothing = c->decrypt_keys->n == 0 && c->o.unwrap_key == NULL && c->decrypt_keys->providers == NULL;
	if (opts == NULL && (nothing || t.text == NULL))
		rc = rune_error(err, 0,
		                "layer %s is encrypted (%s) and no key opens it: no decryption key was given "
		                "(--decryption-key)",
		                d->digest, schemes ? schemes : "no key annotations");
	else if (opts == NULL)
		rc = rune_error(err, 0, "layer %s is encrypted (%s) and no key opens it; tried %s", d->digest,
		                schemes ? schemes : "no key annotations", t.text);
	else
		rc = parse_opts(opts, len, d->digest, s, err);
	if (opts) {
		OPENSSL_cleanse(opts, len);
		free(opts);
	}
	free(t.text);
	if (rc < 0)
		image_layer_secret_wipe(s);
	return rc;
}

void image_layer_secret_wipe(struct layer_secret *s)
{
	OPENSSL_cleanse(s->key, sizeof(s->key));
	OPENSSL_cleanse(s->nonce, sizeof(s->nonce));
	free(s->digest);
	free(s->opened_by);
	s->digest = s->opened_by = NULL;
}

void image_layer_encryption_json(const struct descriptor *d, yajl_gen g)
{
	yajl_gen_map_open(g);
	size_t prefix = strlen(ENC_ANNOTATION_PREFIX);
	yajl_val ann = d->annotations;
	for (size_t i = 0; YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++) {
		const char *k = ann->u.object.keys[i];
		yajl_val v = ann->u.object.values[i];
		if (strncmp(k, ENC_ANNOTATION_PREFIX, prefix) != 0 || !YAJL_IS_STRING(v))
			continue;
		long long n = *v->u.string ? 1 : 0;
		for (const char *c = v->u.string; *c; c++)
			n += *c == ',';
		rune_json_gen_kv_int(g, k + prefix, n);
	}
	yajl_gen_map_close(g);
}

int image_layers_open(struct image_ctx *c, const struct manifest *m, struct layer_secret **out, rune_error_t *err)
{
	struct layer_secret *s = xcalloc(m->n_layers + 1, sizeof(*s));
	for (size_t i = 0; i < m->n_layers; i++) {
		enum compression comp;
		bool encrypted;
		if (image_layer_compression(&m->layers[i], &comp, &encrypted, err) < 0
		    || (encrypted && image_layer_open(c, &m->layers[i], &s[i], err) < 0)) {
			image_layer_secrets_free(s, m->n_layers);
			return -1;
		}
	}
	*out = s;
	return 0;
}

void image_layer_secrets_free(struct layer_secret *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		image_layer_secret_wipe(&s[i]);
	free(s);
}
