#include "sigbundle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "encoding.h"
#include "json.h"
#include "util.h"

#define TLOGS_MAX 8
#define CHAIN_MAX 10

bool image_bundle_media_type(const char *mt)
{
	static const char *const known[] = { MT_SIGSTORE_BUNDLE_V03,
		                             "application/vnd.dev.sigstore.bundle+json;version=0.1",
		                             "application/vnd.dev.sigstore.bundle+json;version=0.2",
		                             "application/vnd.dev.sigstore.bundle+json;version=0.3" };
	for (size_t i = 0; mt && i < ARRAY_SIZE(known); i++)
		if (strcmp(mt, known[i]) == 0)
			return true;
	return false;
}

static yajl_val get(yajl_val v, const char *a, const char *b)
{
	v = rune_json_get(v, a);
	return b ? rune_json_get(v, b) : v;
}

static bool b64_field(yajl_val v, unsigned char **out, size_t *len)
{
	return YAJL_IS_STRING(v) && rune_base64_decode(v->u.string, strlen(v->u.string), out, len);
}

/* protobuf's JSON writes int64 as a string; accept a number too. */
static bool int64_field(yajl_val v, int64_t *out)
{
	if (YAJL_IS_INTEGER(v)) {
		*out = YAJL_GET_INTEGER(v);
		return true;
	}
	if (!YAJL_IS_STRING(v) || v->u.string[0] == '\0' || strspn(v->u.string, "0123456789") != strlen(v->u.string))
		return false;
	errno = 0;
	long long n = strtoll(v->u.string, NULL, 10);
	*out = n;
	return errno == 0;
}

static int parse_tlog(yajl_val t, size_t i, struct bundle_tlog *out, char **why)
{
	unsigned char *id = NULL;
	size_t id_len;
	yajl_val kind = get(t, "kindVersion", "kind"), version = get(t, "kindVersion", "version");
	yajl_val body = get(t, "canonicalizedBody", NULL);
	if (!YAJL_IS_STRING(kind) || !YAJL_IS_STRING(version) || !YAJL_IS_STRING(body)
	    || !int64_field(get(t, "integratedTime", NULL), &out->integrated_time)
	    || !int64_field(get(t, "logIndex", NULL), &out->log_index)
	    || !b64_field(get(t, "logId", "keyId"), &id, &id_len)) {
		*why = xasprintf("bundle verificationMaterial.tlogEntries[%zu]: malformed", i);
		return -1;
	}
	out->kind = xstrdup(kind->u.string);
	out->version = xstrdup(version->u.string);
	out->body_b64 = xstrdup(body->u.string);
	out->log_id_hex = rune_hex_encode(id, id_len);
	free(id);
	yajl_val set = get(t, "inclusionPromise", "signedEntryTimestamp");
	if (set && !b64_field(set, &out->set, &out->set_len)) {
		*why = xasprintf("bundle verificationMaterial.tlogEntries[%zu].inclusionPromise: not base64", i);
		return -1;
	}
	return 0;
}

static int parse_material(yajl_val m, struct sig_bundle *b, char **why)
{
	yajl_val hint = get(m, "publicKey", "hint"), cert = get(m, "certificate", "rawBytes");
	yajl_val chain = get(m, "x509CertificateChain", "certificates"), tlogs = get(m, "tlogEntries", NULL);
	if (!YAJL_IS_OBJECT(m)) {
		*why = xstrdup("bundle: no verificationMaterial");
		return -1;
	}
	if (!!get(m, "publicKey", NULL) + !!get(m, "certificate", NULL) + !!get(m, "x509CertificateChain", NULL) != 1) {
		*why = xstrdup(
		    "bundle verificationMaterial: want exactly one of publicKey, certificate, x509CertificateChain");
		return -1;
	}
	if (get(m, "publicKey", NULL)) {
		b->key_hint = xstrdup(YAJL_IS_STRING(hint) ? hint->u.string : "");
	} else if (cert) {
		if (!b64_field(cert, &b->cert, &b->cert_len)) {
			*why = xstrdup("bundle verificationMaterial.certificate.rawBytes: not base64");
			return -1;
		}
	} else {
		if (!YAJL_IS_ARRAY(chain) || chain->u.array.len == 0 || chain->u.array.len > CHAIN_MAX
		    || !b64_field(get(chain->u.array.values[0], "rawBytes", NULL), &b->cert, &b->cert_len)) {
			*why = xstrdup("bundle verificationMaterial.x509CertificateChain: malformed");
			return -1;
		}
		size_t n = chain->u.array.len - 1;
		b->chain = xcalloc(n + 1, sizeof(*b->chain));
		b->chain_len = xcalloc(n + 1, sizeof(*b->chain_len));
		for (size_t i = 0; i < n; i++, b->n_chain++)
			if (!b64_field(get(chain->u.array.values[i + 1], "rawBytes", NULL), &b->chain[i],
			               &b->chain_len[i])) {
				*why = xstrdup("bundle verificationMaterial.x509CertificateChain: malformed");
				return -1;
			}
	}
	if (tlogs && (!YAJL_IS_ARRAY(tlogs) || tlogs->u.array.len > TLOGS_MAX)) {
		*why = xasprintf("bundle verificationMaterial.tlogEntries: want an array of at most %d", TLOGS_MAX);
		return -1;
	}
	size_t n = tlogs ? tlogs->u.array.len : 0;
	b->tlogs = xcalloc(n + 1, sizeof(*b->tlogs));
	for (size_t i = 0; i < n; i++, b->n_tlogs++)
		if (parse_tlog(tlogs->u.array.values[i], i, &b->tlogs[i], why) < 0) {
			b->n_tlogs++;
			return -1;
		}
	return 0;
}

static int parse_content(yajl_val tree, struct sig_bundle *b, char **why)
{
	yajl_val msg = rune_json_get(tree, "messageSignature"), env = rune_json_get(tree, "dsseEnvelope");
	if (!!msg + !!env != 1) {
		*why = xstrdup("bundle: want exactly one of messageSignature and dsseEnvelope");
		return -1;
	}
	if (msg) {
		yajl_val alg = get(msg, "messageDigest", "algorithm");
		if (!YAJL_IS_STRING(alg) || strcmp(alg->u.string, "SHA2_256") != 0
		    || !b64_field(get(msg, "messageDigest", "digest"), &b->digest, &b->digest_len)
		    || b->digest_len != 32 || !b64_field(get(msg, "signature", NULL), &b->signature, &b->sig_len)) {
			*why = xstrdup("bundle messageSignature: want a SHA2_256 messageDigest and a base64 signature");
			return -1;
		}
		return 0;
	}
	b->dsse = true;
	yajl_val type = get(env, "payloadType", NULL), sigs = get(env, "signatures", NULL);
	if (!YAJL_IS_STRING(type) || !b64_field(get(env, "payload", NULL), &b->payload, &b->payload_len)) {
		*why = xstrdup("bundle dsseEnvelope: want a payloadType and a base64 payload");
		return -1;
	}
	b->payload_type = xstrdup(type->u.string);
	if (!YAJL_IS_ARRAY(sigs) || sigs->u.array.len != 1
	    || !b64_field(get(sigs->u.array.values[0], "sig", NULL), &b->signature, &b->sig_len)) {
		*why = xstrdup("bundle dsseEnvelope: want exactly one base64 signature");
		return -1;
	}
	return 0;
}

int image_bundle_parse(const char *json, size_t len, struct sig_bundle *b, char **why)
{
	memset(b, 0, sizeof(*b));
	if (memchr(json, '\0', len)) {
		*why = xstrdup("bundle: contains a NUL byte");
		return -1;
	}
	cleanup_free char *text = strndup(json, len);
	cleanup_error rune_error_t err = NULL;
	yajl_val tree;
	if (rune_json_parse(text, "bundle", &tree, &err) < 0) {
		*why = xstrdup(err->msg);
		return -1;
	}
	yajl_val mt = rune_json_get(tree, "mediaType");
	int rc = -1;
	if (!YAJL_IS_STRING(mt) || !image_bundle_media_type(mt->u.string))
		*why = xasprintf("bundle: unknown mediaType %s", YAJL_IS_STRING(mt) ? mt->u.string : "(none)");
	else if (parse_material(rune_json_get(tree, "verificationMaterial"), b, why) == 0)
		rc = parse_content(tree, b, why);
	yajl_tree_free(tree);
	if (rc < 0)
		image_bundle_release(b);
	return rc;
}

void image_bundle_release(struct sig_bundle *b)
{
	free(b->key_hint);
	free(b->cert);
	for (size_t i = 0; i < b->n_chain; i++)
		free(b->chain[i]);
	free(b->chain);
	free(b->chain_len);
	for (size_t i = 0; i < b->n_tlogs; i++) {
		free(b->tlogs[i].kind);
		free(b->tlogs[i].version);
		free(b->tlogs[i].body_b64);
		free(b->tlogs[i].log_id_hex);
		free(b->tlogs[i].set);
	}
	free(b->tlogs);
	free(b->digest);
	free(b->payload_type);
	free(b->payload);
	free(b->signature);
	memset(b, 0, sizeof(*b));
}

unsigned char *image_dsse_pae(const char *type, const unsigned char *payload, size_t len, size_t *out_len)
{
	cleanup_free char *head = xasprintf("DSSEv1 %zu %s %zu ", strlen(type), type, len);
	size_t h = strlen(head);
	unsigned char *out = xmalloc(h + len + 1);
	memcpy(out, head, h);
	memcpy(out + h, payload, len);
	*out_len = h + len;
	return out;
}
