#include "sigsource.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "encoding.h"
#include "json.h"
#include "manifest.h"
#include "sigbundle.h"
#include "stream.h"
#include "util.h"

#define LIST_MAX (4 << 20) /* a signature list, .sig manifest or referrers index */

static struct untrusted_sig *add(struct sig_list *l, enum sig_kind kind, const char *origin, const char *digest)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	struct untrusted_sig *s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->origin = xstrdup(origin);
	s->filed_under = xstrdup(digest);
	return s;
}

static void looked(struct sig_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void looked(struct sig_list *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *s = xvasprintf(fmt, ap);
	va_end(ap);
	rune_strv_append(&l->looked, s);
}

static int too_many(rune_error_t *err, const char *where)
{
	return rune_error(err, 0, "%s: more than %d signatures; refusing to read more", where, SIGS_MAX);
}

/* One lookaside signature: 0 and *data, 1 when it is not there. */
static int lookaside_get(const char *url, unsigned char **data, size_t *len, rune_error_t *err)
{
	if (strncmp(url, "file://", 7) == 0) {
		cleanup_error rune_error_t ferr = NULL;
		if (rune_read_file(url + 7, SIG_MAX_SIZE, (char **) data, len, &ferr) == 0)
			return 0;
		if (ferr->status == ENOENT)
			return 1;
		return rune_error_move(err, &ferr);
	}
	long status = 0;
	if (image_http_get(url, SIG_MAX_SIZE, (char **) data, len, &status, err) < 0)
		return -1;
	if (status == 404)
		return 1;
	if (status != 200)
		return rune_error(err, 0, "GET %s: HTTP %ld", url, status);
	return 0;
}

static int from_lookaside(const struct image_ref *ref, const struct sig_storage *st, const char *digest,
                          struct sig_list *out, rune_error_t *err)
{
	cleanup_free char *base = xstrdup(st->lookaside);
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		base[--n] = '\0';
	cleanup_free char *dir = xasprintf("%s/%s@%s", base, ref->repository, digest);
	*strchr(dir + strlen(base), ':') = '=';
	for (int i = 1;; i++) {
		cleanup_free char *url = xasprintf("%s/signature-%d", dir, i);
		unsigned char *data = NULL;
		size_t len = 0;
		int r = lookaside_get(url, &data, &len, err);
		if (r < 0)
			return rune_error_wrap(err, "lookaside (%s)", st->lookaside_from);
		if (r == 1) {
			if (i == 1)
				looked(out, "no signature at %s", url);
			return 0;
		}
		if (i > SIGS_MAX) {
			free(data);
			return too_many(err, dir);
		}
		struct untrusted_sig *s = add(out, SIG_SIMPLE, url, digest);
		s->data = data;
		s->len = len;
	}
}

static int from_extension(struct registry_client *client, const struct image_ref *ref, const char *digest,
                          struct sig_list *out, rune_error_t *err)
{
	struct http_manifest doc;
	cleanup_free char *where =
	    xasprintf("signature extension /extensions/v2/%s/signatures/%s", ref->repository, digest);
	if (image_registry_get_doc(client, true, "signatures", digest, "application/json", LIST_MAX, &doc, err) < 0) {
		if ((*err)->status != ENOENT)
			return -1;
		rune_error_release(err);
		looked(out, "no signature in the registry's %s", where);
		return 0;
	}
	yajl_val tree = NULL;
	int rc = rune_json_parse(doc.body, where, &tree, err);
	yajl_val list = rune_json_get(tree, "signatures");
	if (rc == 0 && !YAJL_IS_ARRAY(list))
		rc = rune_error(err, 0, "%s: no \"signatures\" array", where);
	if (rc == 0 && list->u.array.len > SIGS_MAX)
		rc = too_many(err, where);
	for (size_t i = 0; rc == 0 && i < list->u.array.len; i++) {
		yajl_val e = list->u.array.values[i];
		yajl_val version = rune_json_get(e, "schemaVersion"), type = rune_json_get(e, "type");
		yajl_val content = rune_json_get(e, "content");
		/* Other versions and types are not ours to read, as containers/image skips them. */
		if (!YAJL_IS_INTEGER(version) || YAJL_GET_INTEGER(version) != 2 || !YAJL_IS_STRING(type)
		    || strcmp(type->u.string, "atomic") != 0)
			continue;
		cleanup_free char *origin = xasprintf("%s, entry %zu", where, i + 1);
		unsigned char *data;
		size_t len;
		if (!YAJL_IS_STRING(content)
		    || !rune_base64_decode(content->u.string, strlen(content->u.string), &data, &len)) {
			rc = rune_error(err, 0, "%s: content is not base64", origin);
			break;
		}
		struct untrusted_sig *s = add(out, SIG_SIMPLE, origin, digest);
		s->data = data;
		s->len = len;
	}
	if (rc == 0 && out->n == 0)
		looked(out, "no signature in the registry's %s", where);
	if (tree)
		yajl_tree_free(tree);
	image_http_manifest_release(&doc);
	return rc;
}

int image_sigs_simple(struct registry_client *client, const struct image_ref *ref, const struct sig_storage *st,
                      const char *digest, struct sig_list *out, rune_error_t *err)
{
	if (client && image_registry_supports_signatures(client))
		return from_extension(client, ref, digest, out, err);
	if (st->lookaside)
		return from_lookaside(ref, st, digest, out, err);
	looked(out, "%s",
	       "no lookaside storage is configured for this image in registries.d, and the registry does "
	       "not offer the signature extension");
	return 0;
}

/* A tag named after digest: "sha256-<hex>" plus suffix. */
static char *digest_tag(const char *digest, const char *suffix)
{
	char *t = xasprintf("%s%s", digest, suffix);
	*strchr(t, ':') = '-';
	return t;
}

/* A signature-carrying manifest, fetched by tag or digest; its digest
 * checked when fetched by digest. ENOENT when not there. */
static int get_doc(struct registry_client *client, const char *ref, const char *accept, const char *want_digest,
                   yajl_val *tree, rune_error_t *err)
{
	struct http_manifest doc;
	if (image_registry_get_doc(client, false, "manifests", ref, accept, LIST_MAX, &doc, err) < 0)
		return -1;
	int rc = 0;
	if (want_digest)
		rc = image_digest_check(doc.body, doc.len, want_digest, ref, err);
	if (rc == 0)
		rc = rune_json_parse(doc.body, ref, tree, err);
	image_http_manifest_release(&doc);
	return rc;
}

static const char *str_member(yajl_val v, const char *key)
{
	yajl_val s = rune_json_get(v, key);
	return YAJL_IS_STRING(s) ? s->u.string : NULL;
}

/* A layer of a signature manifest into memory, digest and size checked. */
static int get_layer(struct registry_client *client, yajl_val layer, const char *where, unsigned char **data,
                     size_t *len, rune_error_t *err)
{
	const char *digest = str_member(layer, "digest");
	yajl_val size = rune_json_get(layer, "size");
	if (digest == NULL || image_digest_validate(digest, where, err) < 0)
		return rune_error(err, 0, "%s: no valid digest", where);
	if (!YAJL_IS_INTEGER(size) || YAJL_GET_INTEGER(size) < 0 || YAJL_GET_INTEGER(size) > SIG_MAX_SIZE)
		return rune_error(err, 0, "%s: size missing or above %d bytes", where, SIG_MAX_SIZE);
	char *buf;
	if (image_registry_get_small_blob(client, digest, SIG_MAX_SIZE, &buf, len, err) < 0)
		return rune_error_wrap(err, "%s", where);
	if ((int64_t) *len != YAJL_GET_INTEGER(size)) {
		free(buf);
		return rune_error(err, 0, "%s: %zu bytes, the manifest says %lld", where, *len,
		                  (long long) YAJL_GET_INTEGER(size));
	}
	*data = (unsigned char *) buf;
	return 0;
}

int image_sigs_cosign(struct registry_client *client, const char *digest, struct sig_list *out, rune_error_t *err)
{
	cleanup_free char *tag = digest_tag(digest, ".sig");
	yajl_val tree = NULL;
	if (get_doc(client, tag, MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST, NULL, &tree, err) < 0) {
		if ((*err)->status != ENOENT)
			return rune_error_wrap(err, "cosign signatures");
		rune_error_release(err);
		looked(out, "no cosign signatures (no tag %s)", tag);
		return 0;
	}
	yajl_val layers = rune_json_get(tree, "layers");
	int rc = 0;
	if (!YAJL_IS_ARRAY(layers))
		rc = rune_error(err, 0, "cosign signatures: tag %s: no layers", tag);
	else if (layers->u.array.len > SIGS_MAX)
		rc = too_many(err, tag);
	size_t found = 0;
	for (size_t i = 0; rc == 0 && i < layers->u.array.len; i++) {
		yajl_val l = layers->u.array.values[i];
		const char *mt = str_member(l, "mediaType");
		if (mt == NULL || strcmp(mt, MT_COSIGN_SIMPLESIGNING) != 0)
			continue;
		cleanup_free char *origin = xasprintf("tag %s, layer %zu", tag, i + 1);
		unsigned char *data;
		size_t len;
		if ((rc = get_layer(client, l, origin, &data, &len, err)) < 0)
			break;
		struct untrusted_sig *s = add(out, SIG_COSIGN, origin, digest);
		s->data = data;
		s->len = len;
		yajl_val ann = rune_json_get(l, "annotations");
		const char *v;
		if ((v = str_member(ann, "dev.cosignproject.cosign/signature")) != NULL)
			s->cosign_signature = xstrdup(v);
		if ((v = str_member(ann, "dev.sigstore.cosign/certificate")) != NULL)
			s->cosign_certificate = xstrdup(v);
		if ((v = str_member(ann, "dev.sigstore.cosign/chain")) != NULL)
			s->cosign_chain = xstrdup(v);
		if ((v = str_member(ann, "dev.sigstore.cosign/bundle")) != NULL)
			s->cosign_set = xstrdup(v);
		found++;
	}
	if (rc == 0 && found == 0)
		looked(out, "no cosign signature layers under tag %s", tag);
	yajl_tree_free(tree);
	return rc < 0 ? rune_error_wrap(err, "cosign signatures") : 0;
}

/* The referrers of digest: the API, else the referrers tag. */
static int referrers(struct registry_client *client, const char *digest, yajl_val *tree, char **from, rune_error_t *err)
{
	/* The filter is a hint a registry may ignore: entries are checked below anyway. */
	cleanup_free char *q = xasprintf("%s?artifactType=application%%2Fvnd.dev.sigstore.bundle.v0.3%%2Bjson", digest);
	struct http_manifest doc;
	if (image_registry_get_doc(client, false, "referrers", q, MT_OCI_INDEX, LIST_MAX, &doc, err) == 0) {
		int rc = rune_json_parse(doc.body, "referrers", tree, err);
		image_http_manifest_release(&doc);
		*from = xasprintf("referrers of %s", digest);
		return rc;
	}
	if ((*err)->status != ENOENT)
		return -1;
	/* No referrers API (distribution 2.x answers 404): the tag the pusher maintains. */
	rune_error_release(err);
	cleanup_free char *tag = digest_tag(digest, "");
	*from = xasprintf("referrers tag %s", tag);
	return get_doc(client, tag, MT_OCI_INDEX, NULL, tree, err);
}

static int bundle_from(struct registry_client *client, const char *digest, yajl_val entry, const char *from,
                       struct sig_list *out, rune_error_t *err)
{
	const char *manifest_digest = str_member(entry, "digest");
	if (manifest_digest == NULL || image_digest_validate(manifest_digest, from, err) < 0)
		return rune_error(err, 0, "%s: an entry without a valid digest", from);
	cleanup_free char *origin = xasprintf("referrer %s", manifest_digest);
	yajl_val m = NULL;
	if (get_doc(client, manifest_digest, MT_OCI_MANIFEST, manifest_digest, &m, err) < 0)
		return rune_error_wrap(err, "%s", origin);
	const char *subject = str_member(rune_json_get(m, "subject"), "digest");
	yajl_val layers = rune_json_get(m, "layers");
	int rc = 0;
	if (subject == NULL || strcmp(subject, digest) != 0) {
		/* Listed for digest, made for another: not a signature of this image. */
		looked(out, "%s names another subject; ignored", origin);
	} else if (!YAJL_IS_ARRAY(layers) || layers->u.array.len != 1
	           || !image_bundle_media_type(str_member(layers->u.array.values[0], "mediaType"))) {
		rc = rune_error(err, 0, "%s: want exactly one layer holding a Sigstore bundle", origin);
	} else {
		unsigned char *data;
		size_t len;
		rc = get_layer(client, layers->u.array.values[0], origin, &data, &len, err);
		if (rc == 0) {
			struct untrusted_sig *s = add(out, SIG_BUNDLE, origin, digest);
			s->data = data;
			s->len = len;
		}
	}
	yajl_tree_free(m);
	return rc;
}

int image_sigs_bundles(struct registry_client *client, const char *digest, struct sig_list *out, rune_error_t *err)
{
	yajl_val index = NULL;
	cleanup_free char *from = NULL;
	if (referrers(client, digest, &index, &from, err) < 0) {
		if ((*err)->status != ENOENT)
			return rune_error_wrap(err, "Sigstore bundles");
		rune_error_release(err);
		looked(out, "no Sigstore bundles (no referrers API, no tag %s)", from + strlen("referrers tag "));
		return 0;
	}
	yajl_val list = rune_json_get(index, "manifests");
	int rc = 0;
	size_t found = 0;
	if (!YAJL_IS_ARRAY(list))
		rc = rune_error(err, 0, "%s: not an index", from);
	for (size_t i = 0; rc == 0 && i < list->u.array.len; i++) {
		yajl_val e = list->u.array.values[i];
		if (!image_bundle_media_type(str_member(e, "artifactType")))
			continue;
		if (++found > SIGS_MAX) {
			rc = too_many(err, from);
			break;
		}
		rc = bundle_from(client, digest, e, from, out, err);
	}
	if (rc == 0 && found == 0)
		looked(out, "no Sigstore bundles among the %s", from);
	yajl_tree_free(index);
	return rc < 0 ? rune_error_wrap(err, "Sigstore bundles") : 0;
}

void image_sig_list_release(struct sig_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct untrusted_sig *s = &l->v[i];
		free(s->origin);
		free(s->filed_under);
		free(s->data);
		free(s->cosign_signature);
		free(s->cosign_certificate);
		free(s->cosign_chain);
		free(s->cosign_set);
	}
	free(l->v);
	cleanup_strvp(&l->looked);
	memset(l, 0, sizeof(*l));
}
