/* Resolution: a reference to the manifest of this host's platform and its
 * config, every document fetched into the store and checked (digest, size,
 * media type) before anything else happens. What runs before any layer is
 * fetched, and so where the image's trust is decided. */
#include "resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "stream.h"
#include "trust.h"
#include "util.h"

/* A small blob (config, platform manifest) into the store, verified. */
static int fetch_small(struct image_ctx *c, struct registry_client *client, const char *digest, int64_t size,
                       size_t max, const char *what, rune_error_t *err)
{
	if (image_store_has(c->store, digest, size))
		return 0;
	if (size > (int64_t) max)
		return rune_error(err, EFBIG, "%s %s: %lld bytes, more than the limit of %zu", what, digest,
		                  (long long) size, max);
	cleanup_free char *buf = NULL;
	size_t len;
	int r = image_registry_get_small_blob(client, digest, max, &buf, &len, err);
	if (r == 0 && size >= 0 && (int64_t) len != size)
		r = rune_error(err, EBADMSG, "%s %s: %zu bytes, its descriptor names %lld", what, digest, len,
		               (long long) size);
	if (r == 0)
		r = image_store_write_blob(c->store, digest, buf, len, err);
	return r < 0 ? rune_error_wrap(err, "%s", what) : 0;
}

static char *digest_of(const char *algo_of, const void *data, size_t len)
{
	struct digester *d = image_digester_new(algo_of && strncmp(algo_of, "sha512:", 7) == 0 ? "sha512:" : "sha256:");
	image_digester_update(d, data, len);
	char *s = image_digester_final(d);
	image_digester_free(d);
	return s;
}

/* GET a manifest by tag or digest and check it is the one asked for; kept
 * in memory until the policy has decided. */
static int get_manifest(struct registry_client *client, const char *ident, const char *want, int64_t want_size,
                        const char *what, struct http_manifest *hm, char **digest, rune_error_t *err)
{
	if (image_registry_get_manifest(client, ident, MANIFEST_MAX, hm, err) < 0)
		return rune_error_wrap(err, "%s", what);
	*digest = digest_of(want ? want : hm->digest, hm->body, hm->len);
	if (want && strcmp(*digest, want) != 0)
		return rune_error(err, EBADMSG, "%s: digest mismatch: asked for %s, the registry sent %s", what, want,
		                  *digest);
	if (want_size >= 0 && (int64_t) hm->len != want_size)
		return rune_error(err, EBADMSG, "%s: %zu bytes, its descriptor names %lld", what, hm->len,
		                  (long long) want_size);
	if (!want && hm->digest && strncmp(hm->digest, *digest, 7) == 0 && strcmp(hm->digest, *digest) != 0)
		return rune_error(err, EBADMSG, "%s: the registry says %s, the manifest it sent is %s", what,
		                  hm->digest, *digest);
	return 0;
}

/* Checks made before any layer is fetched. */
static int check_image(struct resolved *r, rune_error_t *err)
{
	if (r->cfg.n_diff_ids != r->m.n_layers)
		return rune_error(err, EINVAL, "image %s: %zu layers but %zu rootfs.diff_ids in its config", r->name,
		                  r->m.n_layers, r->cfg.n_diff_ids);
	for (size_t i = 0; i < r->m.n_layers; i++) {
		enum compression comp;
		bool encrypted;
		if (image_layer_compression(&r->m.layers[i], &comp, &encrypted, err) < 0)
			return rune_error_wrap(err, "image %s", r->name);
	}
	return 0;
}

static int load_config(struct image_ctx *c, struct resolved *r, rune_error_t *err)
{
	cleanup_free char *body = NULL;
	cleanup_free char *what = xasprintf("config %s of %s", r->m.config.digest, r->name);
	if (image_store_read_blob(c->store, r->m.config.digest, CONFIG_MAX, &body, NULL, err) < 0
	    || image_config_parse(body, what, &r->cfg, err) < 0)
		return -1;
	return check_image(r, err);
}

void image_manifest_bodies_release(struct manifest_bodies *b)
{
	image_http_manifest_release(&b->top);
	image_http_manifest_release(&b->platform);
}

int image_resolve_manifests(struct image_ctx *c, struct registry_client *client, const char *refstr, struct resolved *r,
                            struct manifest_bodies *b, rune_error_t *err)
{
	cleanup_free char *digest = NULL;
	memset(r, 0, sizeof(*r));
	memset(b, 0, sizeof(*b));
	if (image_ref_parse(refstr, &r->ref, err) < 0)
		return -1;
	r->name = image_ref_string(&r->ref);
	/* /v2/ first: it settles the scheme and credentials before anything else. */
	if (image_registry_ping(client, err) < 0)
		return rune_error_wrap(err, "registry of %s", r->name);
	cleanup_free char *what = xasprintf("manifest of %s", r->name);
	if (get_manifest(client, r->ref.digest ? r->ref.digest : r->ref.tag, r->ref.digest, -1, what, &b->top, &digest,
	                 err)
	        < 0
	    || image_manifest_parse(b->top.body, b->top.media_type, what, &r->m, err) < 0)
		return -1;
	r->top_digest = take_ptr(digest);
	r->top_media_type = xstrdup(r->m.media_type);
	r->top_size = b->top.len;
	if (r->m.kind != MANIFEST_INDEX) {
		r->manifest_digest = xstrdup(r->top_digest);
		return 0;
	}
	const struct descriptor *d;
	if (image_manifest_select(&r->m, &c->platform, &d, r->name, err) < 0)
		return -1;
	cleanup_free char *pd = xstrdup(d->digest);
	int64_t psize = d->size;
	cleanup_free char *pwhat = xasprintf("manifest %s of %s", pd, r->name);
	image_manifest_release(&r->m);
	if (get_manifest(client, pd, pd, psize, pwhat, &b->platform, &digest, err) < 0
	    || image_manifest_parse(b->platform.body, b->platform.media_type, pwhat, &r->m, err) < 0)
		return -1;
	if (r->m.kind != MANIFEST_IMAGE)
		return rune_error(err, EINVAL, "%s: an index inside an index", pwhat);
	r->manifest_digest = take_ptr(digest);
	return 0;
}

void image_resolved_subject(const struct resolved *r, const struct manifest_bodies *b, struct registry_client *client,
                            struct trust_subject *s)
{
	const struct http_manifest *m = b->platform.body ? &b->platform : &b->top;
	*s = (struct trust_subject){ .ref = &r->ref,
		                     .top_digest = r->top_digest,
		                     .top_body = b->top.body,
		                     .top_len = b->top.len,
		                     .manifest_digest = r->manifest_digest,
		                     .manifest_body = m->body,
		                     .manifest_len = m->len,
		                     .client = client };
}

int image_resolve_remote(struct image_ctx *c, struct registry_client *client, const char *refstr, struct resolved *r,
                         rune_error_t *err)
{
	struct manifest_bodies b;
	struct trust_subject s;
	int rc = image_resolve_manifests(c, client, refstr, r, &b, err);
	if (rc == 0) {
		/* The policy decides before the config or any layer is fetched, and a
		 * refusal leaves nothing in the store. */
		image_resolved_subject(r, &b, client, &s);
		rc = image_trust_enforce(c, &s, err);
	}
	if (rc == 0)
		rc = image_store_write_blob(c->store, r->top_digest, b.top.body, b.top.len, err);
	if (rc == 0 && b.platform.body)
		rc = image_store_write_blob(c->store, r->manifest_digest, b.platform.body, b.platform.len, err);
	image_manifest_bodies_release(&b);
	if (rc < 0)
		return -1;
	if (fetch_small(c, client, r->m.config.digest, r->m.config.size, CONFIG_MAX, "image config", err) < 0)
		return -1;
	return load_config(c, r, err);
}

int image_resolve_local(struct image_ctx *c, const char *refstr, bool enforce_policy, struct resolved *r,
                        rune_error_t *err)
{
	struct store_ref sr;
	struct manifest_bodies b = { 0 };
	memset(r, 0, sizeof(*r));
	if (image_ref_parse(refstr, &r->ref, err) < 0)
		return -1;
	r->name = image_ref_string(&r->ref);
	if (image_store_ref_get(c->store, r->name, &sr, err) < 0)
		return -1;
	r->top_digest = take_ptr(sr.digest);
	r->top_media_type = take_ptr(sr.media_type);
	r->top_size = sr.size;
	image_store_ref_release(&sr);
	cleanup_free char *what = xasprintf("stored manifest of %s", r->name);
	int rc = image_store_read_blob(c->store, r->top_digest, MANIFEST_MAX, &b.top.body, &b.top.len, err);
	if (rc == 0)
		rc = image_manifest_parse(b.top.body, r->top_media_type, what, &r->m, err);
	if (rc == 0 && r->m.kind == MANIFEST_INDEX) {
		const struct descriptor *d;
		rc = image_manifest_select(&r->m, &c->platform, &d, r->name, err);
		if (rc == 0) {
			r->manifest_digest = xstrdup(d->digest);
			image_manifest_release(&r->m);
			rc = image_store_read_blob(c->store, r->manifest_digest, MANIFEST_MAX, &b.platform.body,
			                           &b.platform.len, err);
			if (rc == 0)
				rc = image_manifest_parse(b.platform.body, NULL, what, &r->m, err);
			if (rc < 0)
				rune_error_wrap(err, "%s (pulled for another platform?)", r->name);
		}
	} else if (rc == 0) {
		r->manifest_digest = xstrdup(r->top_digest);
	}
	if (rc == 0 && enforce_policy) {
		/* The store may hold what another policy let in: this one decides now. */
		struct trust_subject s;
		image_resolved_subject(r, &b, NULL, &s);
		rc = image_trust_enforce(c, &s, err);
	}
	image_manifest_bodies_release(&b);
	if (rc < 0)
		return -1;
	return load_config(c, r, err);
}

void image_resolved_release(struct resolved *r)
{
	image_ref_release(&r->ref);
	free(r->name);
	free(r->top_digest);
	free(r->top_media_type);
	free(r->manifest_digest);
	image_manifest_release(&r->m);
	image_config_release(&r->cfg);
	memset(r, 0, sizeof(*r));
}

int image_resolve_client(struct image_ctx *c, const char *refstr, struct registry_client **client, rune_error_t *err)
{
	struct image_ref ref;
	if (image_ref_parse(refstr, &ref, err) < 0)
		return -1;
	int rc = image_registry_client_new(&c->o.access, &ref, client, err);
	image_ref_release(&ref);
	return rc;
}

void image_resolved_result(const struct resolved *r, struct registry_client *client, struct image_result *res)
{
	if (res == NULL)
		return;
	res->reference = xstrdup(r->name);
	res->digest = xstrdup(r->top_digest);
	res->manifest_digest = xstrdup(r->manifest_digest);
	res->layers = r->m.n_layers;
	res->retries = client ? image_registry_retries(client) : 0;
}

int image_resolved_record(struct image_ctx *c, const struct resolved *r, rune_error_t *err)
{
	char ts[64];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	rune_format_rfc3339nano(&now, true, ts, sizeof(ts));
	struct store_ref sr = { .name = r->name,
		                .digest = r->top_digest,
		                .media_type = r->top_media_type,
		                .size = r->top_size,
		                .pulled = ts };
	return image_store_ref_set(c->store, &sr, err);
}
