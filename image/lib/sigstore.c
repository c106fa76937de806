#include "sigstore.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "cleanup.h"
#include "util.h"

#define OID_FULCIO_ISSUER_V1 "1.3.6.1.4.1.57264.1.1"
#define OID_FULCIO_ISSUER_V2 "1.3.6.1.4.1.57264.1.8"

EVP_PKEY *image_sigstore_public_key(const unsigned char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int) len);
	if (b == NULL)
		return NULL;
	EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	return k;
}

/* The EC curve's name ("prime256v1"), or "" (name holds at least 64 bytes). */
static const char *curve_of(EVP_PKEY *k, char *name)
{
	size_t n = 0;
	if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name, 64, &n) != 1)
		name[0] = '\0';
	return name;
}

int image_sigstore_check_public_key(const unsigned char *pem, size_t len, bool ecdsa_only, rune_error_t *err)
{
	EVP_PKEY *k = image_sigstore_public_key(pem, len);
	if (k == NULL)
		return rune_error(err, 0, "not a PEM public key (-----BEGIN PUBLIC KEY-----)");
	int id = EVP_PKEY_get_base_id(k);
	char buf[64];
	const char *curve = id == EVP_PKEY_EC ? curve_of(k, buf) : "";
	int rc = 0;
	if (ecdsa_only && id != EVP_PKEY_EC)
		rc = rune_error(err, 0, "the Rekor public key must be ECDSA");
	else if (id != EVP_PKEY_EC && id != EVP_PKEY_RSA && id != EVP_PKEY_ED25519)
		rc = rune_error(err, 0, "unsupported key type (want ECDSA, RSA or Ed25519)");
	else if (id == EVP_PKEY_EC && strcmp(curve, "prime256v1") != 0 && strcmp(curve, "secp384r1") != 0
	         && strcmp(curve, "secp521r1") != 0)
		rc = rune_error(err, 0, "unsupported ECDSA curve %s", curve);
	else if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(k) < 2048)
		rc = rune_error(err, 0, "RSA key of %d bits (want at least 2048)", EVP_PKEY_get_bits(k));
	EVP_PKEY_free(k);
	return rc;
}

STACK_OF(X509) * image_certs_from_pem(const unsigned char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int) len);
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509 *x;
	while (b && certs && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(certs, x);
	BIO_free(b);
	if (certs && sk_X509_num(certs) == 0) {
		sk_X509_free(certs);
		certs = NULL;
	}
	return certs;
}

int image_sigstore_check_certificates(const unsigned char *pem, size_t len, rune_error_t *err)
{
	STACK_OF(X509) *certs = image_certs_from_pem(pem, len);
	if (certs == NULL)
		return rune_error(err, 0, "no PEM certificate in it");
	sk_X509_pop_free(certs, X509_free);
	return 0;
}

X509 *image_cert_from_pem(const unsigned char *pem, size_t len, char **why)
{
	STACK_OF(X509) *certs = image_certs_from_pem(pem, len);
	X509 *x = NULL;
	if (certs == NULL)
		*why = xstrdup("the signing certificate does not parse (want one PEM certificate)");
	else if (sk_X509_num(certs) != 1)
		*why = xstrdup("more than one certificate where the signing certificate belongs");
	else
		x = sk_X509_shift(certs);
	if (certs)
		sk_X509_pop_free(certs, X509_free);
	return x;
}

static bool verify_with(EVP_PKEY *k, const EVP_MD *md, int padding, const void *msg, size_t len,
                        const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k) == 1;
	if (ok && padding)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1
		     && (padding != RSA_PKCS1_PSS_PADDING
		         || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1);
	ok = ok && EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

bool image_sigstore_verify(EVP_PKEY *k, const void *msg, size_t len, const unsigned char *sig, size_t siglen)
{
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_ED25519:
		return verify_with(k, NULL, 0, msg, len, sig, siglen);
	case EVP_PKEY_RSA:
		return verify_with(k, EVP_sha256(), RSA_PKCS1_PADDING, msg, len, sig, siglen)
		       || verify_with(k, EVP_sha256(), RSA_PKCS1_PSS_PADDING, msg, len, sig, siglen);
	case EVP_PKEY_EC: {
		/* cosign signs with SHA-256 whatever the curve; sigstore-go with the curve's hash. */
		if (verify_with(k, EVP_sha256(), 0, msg, len, sig, siglen))
			return true;
		char buf[64];
		const char *curve = curve_of(k, buf);
		const EVP_MD *md = strcmp(curve, "secp384r1") == 0   ? EVP_sha384()
		                   : strcmp(curve, "secp521r1") == 0 ? EVP_sha512()
		                                                     : NULL;
		return md && verify_with(k, md, 0, msg, len, sig, siglen);
	}
	default:
		return false;
	}
}

bool image_sigstore_verify_sha256(EVP_PKEY *k, const unsigned char digest[32], const unsigned char *sig, size_t siglen)
{
	int id = EVP_PKEY_get_base_id(k);
	if (id != EVP_PKEY_EC && id != EVP_PKEY_RSA)
		return false;
	bool ok = false;
	for (int pad = 0; pad < 2 && !ok; pad++) {
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
		ok = ctx && EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1;
		if (ok && id == EVP_PKEY_RSA)
			ok = EVP_PKEY_CTX_set_rsa_padding(ctx, pad ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1;
		ok = ok && EVP_PKEY_verify(ctx, sig, siglen, digest, 32) == 1;
		EVP_PKEY_CTX_free(ctx);
		if (id != EVP_PKEY_RSA)
			break;
	}
	return ok;
}

int image_sigstore_key_der(EVP_PKEY *k, unsigned char **der, size_t *len)
{
	unsigned char *buf = NULL;
	int n = i2d_PUBKEY(k, &buf);
	if (n <= 0)
		return -1;
	*der = xmalloc(n);
	memcpy(*der, buf, n);
	*len = n;
	OPENSSL_free(buf);
	return 0;
}

static void add_certs(X509_STORE *store, const struct trust_blob *b)
{
	STACK_OF(X509) *certs = image_certs_from_pem(b->data, b->len);
	for (int i = 0; certs && i < sk_X509_num(certs); i++)
		X509_STORE_add_cert(store, sk_X509_value(certs, i));
	if (certs)
		sk_X509_pop_free(certs, X509_free);
}

int image_cert_verify(X509 *leaf, const struct trust_blob *roots, STACK_OF(X509) * untrusted, time_t at, char **why)
{
	if (!(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE)
	    || !(X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN)) {
		*why = xstrdup("the signing certificate is not for code signing (extended key usage)");
		return -1;
	}
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = -1;
	if (store && ctx) {
		add_certs(store, roots);
		X509_STORE_CTX_init(ctx, store, leaf, untrusted);
		X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
		/* A configured CA is an anchor even if it is an intermediate, as in Go. */
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
		X509_VERIFY_PARAM_set_time(param, at);
		if (X509_verify_cert(ctx) == 1) {
			rc = 0;
		} else {
			int e = X509_STORE_CTX_get_error(ctx);
			char when[32];
			struct tm tm;
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&at, &tm));
			if (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID)
				*why = xasprintf("the signing certificate was not valid at signing time %s: %s", when,
				                 X509_verify_cert_error_string(e));
			else
				*why = xasprintf("the signing certificate does not chain to %s: %s", roots->name,
				                 X509_verify_cert_error_string(e));
		}
	} else {
		*why = xstrdup("out of memory verifying a certificate");
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

/* The value of a Fulcio extension, once at most. -1: present twice or malformed. */
static int fulcio_ext(X509 *leaf, const char *oid, bool der_utf8, char **value)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int at = X509_get_ext_by_OBJ(leaf, obj, -1);
	int again = at >= 0 ? X509_get_ext_by_OBJ(leaf, obj, at) : -1;
	ASN1_OBJECT_free(obj);
	*value = NULL;
	if (at < 0)
		return 0;
	if (again >= 0)
		return -1;
	ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(X509_get_ext(leaf, at));
	const unsigned char *p = ASN1_STRING_get0_data(os);
	int n = ASN1_STRING_length(os);
	if (!der_utf8) {
		if (memchr(p, '\0', n))
			return -1;
		*value = strndup((const char *) p, n);
		return 0;
	}
	ASN1_UTF8STRING *s = d2i_ASN1_UTF8STRING(NULL, &p, n);
	if (s == NULL)
		return -1;
	if (!memchr(ASN1_STRING_get0_data(s), '\0', ASN1_STRING_length(s)))
		*value = strndup((const char *) ASN1_STRING_get0_data(s), ASN1_STRING_length(s));
	ASN1_UTF8STRING_free(s);
	return *value ? 0 : -1;
}

/* Does the SAN carry want as a name of this type? Also lists what it has. */
static bool san_has(X509 *leaf, int type, const char *want, char **seen)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	bool found = false;
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type != type)
			continue;
		ASN1_IA5STRING *s = type == GEN_EMAIL ? g->d.rfc822Name : g->d.dNSName;
		const char *v = (const char *) ASN1_STRING_get0_data(s);
		size_t n = ASN1_STRING_length(s);
		if (n == strlen(want) && strncasecmp(v, want, n) == 0)
			found = true;
		char *more = xasprintf("%s%s%.*s", *seen ? *seen : "", *seen ? ", " : "", (int) n, v);
		free(*seen);
		*seen = more;
	}
	GENERAL_NAMES_free(names);
	return found;
}

int image_cert_check_fulcio(X509 *leaf, const char *issuer, const char *email, char **why)
{
	cleanup_free char *v1 = NULL, *v2 = NULL, *emails = NULL;
	if (fulcio_ext(leaf, OID_FULCIO_ISSUER_V1, false, &v1) < 0
	    || fulcio_ext(leaf, OID_FULCIO_ISSUER_V2, true, &v2) < 0) {
		*why = xstrdup("the certificate's OIDC issuer extension is malformed or given twice");
		return -1;
	}
	if (v1 && v2 && strcmp(v1, v2) != 0) {
		*why = xasprintf("the certificate names two OIDC issuers (%s and %s)", v1, v2);
		return -1;
	}
	const char *got = v2 ? v2 : v1;
	if (got == NULL) {
		*why = xstrdup("the certificate has no Fulcio OIDC issuer extension");
		return -1;
	}
	if (strcmp(got, issuer) != 0) {
		*why = xasprintf("the certificate's OIDC issuer is %s, not %s", got, issuer);
		return -1;
	}
	if (!san_has(leaf, GEN_EMAIL, email, &emails)) {
		*why = xasprintf("the certificate is for %s, not %s", emails ? emails : "no email address", email);
		return -1;
	}
	return 0;
}

int image_cert_check_pki(X509 *leaf, const char *email, const char *hostname, char **why)
{
	cleanup_free char *emails = NULL, *hosts = NULL;
	if (email && !san_has(leaf, GEN_EMAIL, email, &emails)) {
		*why = xasprintf("the certificate is for %s, not %s", emails ? emails : "no email address", email);
		return -1;
	}
	if (hostname && !san_has(leaf, GEN_DNS, hostname, &hosts)) {
		*why = xasprintf("the certificate is for host %s, not %s", hosts ? hosts : "(none)", hostname);
		return -1;
	}
	return 0;
}

char *image_cert_describe(X509 *cert)
{
	cleanup_free char *emails = NULL, *hosts = NULL;
	san_has(cert, GEN_EMAIL, "", &emails);
	san_has(cert, GEN_DNS, "", &hosts);
	char issuer[256] = "";
	X509_NAME_get_text_by_NID(X509_get_issuer_name(cert), NID_commonName, issuer, sizeof(issuer));
	return xasprintf("a certificate for %s%s%s (issued by %s)", emails ? emails : "", emails && hosts ? ", " : "",
	                 hosts ? hosts : (emails ? "" : "no email or host"), issuer[0] ? issuer : "an unnamed CA");
}
