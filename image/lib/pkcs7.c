/* PKCS7 (CMS) enveloped data, as ocicrypt wraps layer keys with it. OpenSSL's
 * CMS opens standard encodings; ocicrypt's own (the fullsailor/pkcs7 Go
 * library behind skopeo) writes AES-GCM parameters OpenSSL refuses — the
 * parameters' SEQUENCE tagged primitive, wrapped in a second SEQUENCE, the
 * nonce tagged [4] — so that form is read here, strictly otherwise: RSA
 * PKCS#1 v1.5 key transport to the certificate's issuer and serial, AES-GCM
 * (tag appended to the ciphertext) or AES/3DES-CBC content. */
#include "pkcs7.h"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <string.h>

#include "util.h"

/* A DER (or definite-length BER) element. */
struct der {
	const unsigned char *p;
	size_t n;
};

/* The next element of d: its tag byte and value; d moves past it. */
static bool der_next(struct der *d, unsigned *tag, struct der *val)
{
	if (d->n < 2 || (d->p[0] & 0x1f) == 0x1f)
		return false;
	*tag = d->p[0];
	size_t len = d->p[1], hdr = 2;
	if (len & 0x80) {
		size_t k = len & 0x7f;
		if (k == 0 || k > 4 || d->n < 2 + k)
			return false;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | d->p[2 + i];
		hdr += k;
	}
	if (len > d->n - hdr)
		return false;
	val->p = d->p + hdr;
	val->n = len;
	d->p += hdr + len;
	d->n -= hdr + len;
	return true;
}

/* The next element, which must carry tag (any of the two given). */
static bool der_expect(struct der *d, unsigned tag, unsigned alt, struct der *val)
{
	unsigned t;
	return der_next(d, &t, val) && (t == tag || t == alt);
}

static int oid_nid(struct der *val)
{
	/* Re-wrap as a TLV for d2i. */
	unsigned char buf[64];
	if (val->n + 2 > sizeof(buf) || val->n > 127)
		return NID_undef;
	buf[0] = 0x06;
	buf[1] = (unsigned char) val->n;
	memcpy(buf + 2, val->p, val->n);
	const unsigned char *p = buf;
	ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long) val->n + 2);
	int nid = o ? OBJ_obj2nid(o) : NID_undef;
	ASN1_OBJECT_free(o);
	return nid;
}

/* Is this IssuerAndSerialNumber cert's? */
static bool is_ours(struct der ias, X509 *cert)
{
	struct der name, serial;
	unsigned char *want_name = NULL;
	int name_len = i2d_X509_NAME(X509_get_issuer_name(cert), &want_name);
	/* The Name's TLV is compared whole: keep where it starts. */
	const unsigned char *name_tlv = ias.p;
	bool ok = der_expect(&ias, 0x30, 0x30, &name) && der_expect(&ias, 0x02, 0x02, &serial) && name_len > 0
	          && (size_t) (name.p + name.n - name_tlv) == (size_t) name_len
	          && memcmp(name_tlv, want_name, name_len) == 0;
	OPENSSL_free(want_name);
	if (!ok)
		return false;
	const ASN1_INTEGER *s = X509_get0_serialNumber(cert);
	unsigned char *der = NULL;
	int n = i2d_ASN1_INTEGER((ASN1_INTEGER *) s, &der);
	/* i2d writes tag, length, content: compare the content. */
	ok = n > 2 && (size_t) (n - 2) == serial.n && der[1] < 0x80 && memcmp(der + 2, serial.p, serial.n) == 0;
	OPENSSL_free(der);
	return ok;
}

/* The content key, from the recipient that is cert's. */
static bool content_key(struct der recipients, EVP_PKEY *key, X509 *cert, unsigned char *cek, size_t *cek_len)
{
	struct der ri;
	while (der_expect(&recipients, 0x30, 0x30, &ri)) {
		struct der version, ias, alg, ek;
		if (!der_expect(&ri, 0x02, 0x02, &version) || !der_expect(&ri, 0x30, 0x30, &ias)
		    || !der_expect(&ri, 0x30, 0x30, &alg) || !der_expect(&ri, 0x04, 0x04, &ek) || !is_ours(ias, cert))
			continue;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
		bool ok = ctx && EVP_PKEY_decrypt_init(ctx) == 1
		          && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1
		          && EVP_PKEY_decrypt(ctx, cek, cek_len, ek.p, ek.n) == 1;
		EVP_PKEY_CTX_free(ctx);
		return ok;
	}
	return false;
}

/* GCM parameters, standard (SEQUENCE {OCTET STRING nonce, INTEGER icvlen})
 * or ocicrypt's (the same inside another SEQUENCE, the nonce tagged [4]). */
static bool gcm_params(struct der params, struct der *nonce, size_t *icv)
{
	struct der inner = params, seq;
	unsigned t;
	/* Down through the SEQUENCE (ocicrypt's: two of them) to {nonce, icvlen}. */
	for (int depth = 0; depth < 2; depth++) {
		struct der probe = inner;
		if (!der_next(&probe, &t, &seq) || (t != 0x30 && t != 0x10) || probe.n != 0)
			break;
		inner = seq;
	}
	struct der len;
	if (!der_expect(&inner, 0x04, 0x84, nonce))
		return false;
	*icv = 12;
	if (der_expect(&inner, 0x02, 0x02, &len) && len.n == 1)
		*icv = len.p[0];
	return *icv >= 12 && *icv <= 16 && nonce->n >= 12 && nonce->n <= 16;
}

static char *decrypt_content(int nid, struct der params, struct der ct, const unsigned char *cek, size_t cek_len,
                             size_t max, size_t *out_len)
{
	const EVP_CIPHER *c = nid == NID_aes_128_gcm    ? EVP_aes_128_gcm()
	                      : nid == NID_aes_256_gcm  ? EVP_aes_256_gcm()
	                      : nid == NID_aes_128_cbc  ? EVP_aes_128_cbc()
	                      : nid == NID_aes_256_cbc  ? EVP_aes_256_cbc()
	                      : nid == NID_des_ede3_cbc ? EVP_des_ede3_cbc()
	                                                : NULL;
	bool gcm = nid == NID_aes_128_gcm || nid == NID_aes_256_gcm;
	struct der iv;
	size_t icv = 0;
	if (c == NULL || (size_t) EVP_CIPHER_get_key_length(c) != cek_len || ct.n > max + 16)
		return NULL;
	if (gcm ? !gcm_params(params, &iv, &icv) || ct.n < icv
	        : !der_expect(&params, 0x04, 0x04, &iv) || iv.n != (size_t) EVP_CIPHER_get_iv_length(c))
		return NULL;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	char *out = xmalloc(ct.n + 32);
	int n = 0, f = 0;
	size_t body = ct.n - icv;
	bool ok = ctx && EVP_DecryptInit_ex(ctx, c, NULL, NULL, NULL) == 1;
	if (ok && gcm)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int) iv.n, NULL) == 1;
	ok = ok && EVP_DecryptInit_ex(ctx, NULL, NULL, cek, iv.p) == 1
	     && EVP_DecryptUpdate(ctx, (unsigned char *) out, &n, ct.p, (int) body) == 1;
	if (ok && gcm)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int) icv, (void *) (ct.p + body)) == 1;
	ok = ok && EVP_DecryptFinal_ex(ctx, (unsigned char *) out + n, &f) == 1 && (size_t) (n + f) <= max;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(out, ct.n + 32);
		free(out);
		return NULL;
	}
	out[n + f] = '\0';
	*out_len = n + f;
	return out;
}

/* [0] IMPLICIT OCTET STRING: primitive, or (BER) constructed of OCTET STRINGs,
 * joined into *buf. */
static bool encrypted_content(unsigned tag, struct der v, size_t max, unsigned char **buf, struct der *ct)
{
	if (tag == 0x80) {
		*ct = v;
		return true;
	}
	struct der part;
	size_t n = 0;
	while (v.n > 0) {
		if (!der_expect(&v, 0x04, 0x04, &part) || n + part.n > max)
			return false;
		*buf = xrealloc(*buf, n + part.n + 1);
		memcpy(*buf + n, part.p, part.n);
		n += part.n;
	}
	ct->p = *buf;
	ct->n = n;
	return *buf != NULL;
}

/* ContentInfo -> EnvelopedData -> recipients, encrypted content. */
static char *ocicrypt_form(const unsigned char *der, size_t len, EVP_PKEY *key, X509 *cert, size_t max, size_t *out_len,
                           const char **why)
{
	struct der d = { der, len }, ci, oid, explicit, env, version, recipients, eci, ctype, alg, alg_oid, raw, ct;
	unsigned tag = 0;
	unsigned char *joined = NULL;
	if (!der_expect(&d, 0x30, 0x30, &ci) || !der_expect(&ci, 0x06, 0x06, &oid)
	    || oid_nid(&oid) != NID_pkcs7_enveloped || !der_expect(&ci, 0xa0, 0xa0, &explicit)
	    || !der_expect(&explicit, 0x30, 0x30, &env) || !der_expect(&env, 0x02, 0x02, &version)
	    || !der_expect(&env, 0x31, 0x31, &recipients) || !der_expect(&env, 0x30, 0x30, &eci)
	    || !der_expect(&eci, 0x06, 0x06, &ctype) || !der_expect(&eci, 0x30, 0x30, &alg)
	    || !der_expect(&alg, 0x06, 0x06, &alg_oid) || !der_next(&eci, &tag, &raw) || (tag != 0x80 && tag != 0xa0)
	    || !encrypted_content(tag, raw, max + 16, &joined, &ct)) {
		free(joined);
		*why = "not PKCS7 enveloped data";
		return NULL;
	}
	unsigned char cek[512];
	size_t cek_len = sizeof(cek);
	char *out = NULL;
	if (!content_key(recipients, key, cert, cek, &cek_len))
		*why = "not a recipient";
	else if ((out = decrypt_content(oid_nid(&alg_oid), alg, ct, cek, cek_len, max, out_len)) == NULL)
		*why = "the content does not decrypt (unknown cipher, or altered)";
	OPENSSL_cleanse(cek, sizeof(cek));
	free(joined);
	return out;
}

char *image_pkcs7_decrypt(const unsigned char *der, size_t len, EVP_PKEY *key, X509 *cert, size_t max, size_t *out_len,
                          const char **why)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long) len);
	if (cms == NULL)
		return ocicrypt_form(der, len, key, cert, max, out_len, why);
	char *out = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	if (b && CMS_decrypt(cms, key, cert, NULL, b, 0) == 1) {
		char *data;
		long n = BIO_get_mem_data(b, &data);
		if (n >= 0 && (size_t) n <= max) {
			out = xmalloc(n + 1);
			memcpy(out, data, n);
			out[n] = '\0';
			*out_len = n;
		}
	}
	if (out == NULL)
		*why = "not a recipient";
	BIO_free(b);
	CMS_ContentInfo_free(cms);
	return out;
}
