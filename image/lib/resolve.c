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
#include "util.h"

struct mem_sink {
	char *buf;
	size_t len, max;
	const char *what;
};

static int mem_write(void *ctx, const void *buf, size_t n, rune_error_t *err)
{
	struct mem_sink *m = ctx;
	if (m->len + n > m->max)
		return rune_error(err, EFBIG, "%s: larger than the limit of %zu bytes", m->what, m->max);
	m->buf = xrealloc(m->buf, m->len + n + 1);
	memcpy(m->buf + m->len, buf, n);
	m->len += n;
	m->buf[m->len] = '\0';
	return 0;
}

static void mem_restart(void *ctx)
{
	((struct mem_sink *) ctx)->len = 0;
}

/* A small blob (config, platform manifest) into the store, verified. */
static int fetch_small(struct image_ctx *c, struct registry_client *client, const char *digest, int64_t size,
                       size_t max, const char *what, rune_error_t *err)
{
	if (image_store_has(c->store, digest, size))
		return 0;
	if (size > (int64_t) max)
		return rune_error(err, EFBIG, "%s %s: %lld bytes, more than the limit of %zu", what, digest,
		                  (long long) size, max);
	struct mem_sink m = { .max = max, .what = what };
	struct blob_sink sink = { .write = mem_write, .restart = mem_restart, .ctx = &m };
	int r = image_registry_get_blob(client, digest, &sink, err);
	if (r == 0 && size >= 0 && (int64_t) m.len != size)
		r = rune_error(err, EBADMSG, "%s %s: %zu bytes, its descriptor names %lld", what, digest, m.len,
		               (long long) size);
	if (r == 0)
		r = image_store_write_blob(c->store, digest, m.buf ? m.buf : "", m.len, err);
	free(m.buf);
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

/* GET a manifest by tag or digest and check it is the one asked for. */
static int get_manifest(struct image_ctx *c, struct registry_client *client, const char *ident, const char *want,
                        int64_t want_size, const char *what, struct http_manifest *hm, char **digest, rune_error_t *err)
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
	return image_store_write_blob(c->store, *digest, hm->body, hm->len, err);
}

/* Checks made before any layer is fetched (a signature check belongs here too). */
static int check_image(struct resolved *r, rune_error_t *err)
{
	if (r->cfg.n_diff_ids != r->m.n_layers)
		return rune_error(err, EINVAL, "image %s: %zu layers but %zu rootfs.diff_ids in its config", r->name,
		                  r->m.n_layers, r->cfg.n_diff_ids);
	for (size_t i = 0; i < r->m.n_layers; i++) {
		enum compression comp;
		if (image_layer_compression(&r->m.layers[i], &comp, err) < 0)
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

int image_resolve_remote(struct image_ctx *c, struct registry_client *client, const char *refstr, struct resolved *r,
                         rune_error_t *err)
{
	struct http_manifest hm = { 0 };
	cleanup_free char *digest = NULL;
	memset(r, 0, sizeof(*r));
	if (image_ref_parse(refstr, &r->ref, err) < 0)
		return -1;
	r->name = image_ref_string(&r->ref);
	/* /v2/ first: it settles the scheme and credentials before anything else. */
	if (image_registry_ping(client, err) < 0)
		return rune_error_wrap(err, "registry of %s", r->name);
	cleanup_free char *what = xasprintf("manifest of %s", r->name);
	int rc = get_manifest(c, client, r->ref.digest ? r->ref.digest : r->ref.tag, r->ref.digest, -1, what, &hm,
	                      &digest, err);
	if (rc == 0)
		rc = image_manifest_parse(hm.body, hm.media_type, what, &r->m, err);
	if (rc < 0) {
		image_http_manifest_release(&hm);
		return -1;
	}
	r->top_digest = take_ptr(digest);
	r->top_media_type = xstrdup(r->m.media_type);
	r->top_size = hm.len;
	image_http_manifest_release(&hm);
	if (r->m.kind == MANIFEST_INDEX) {
		const struct descriptor *d;
		if (image_manifest_select(&r->m, &c->platform, &d, r->name, err) < 0)
			return -1;
		cleanup_free char *pd = xstrdup(d->digest);
		int64_t psize = d->size;
		cleanup_free char *pwhat = xasprintf("manifest %s of %s", pd, r->name);
		image_manifest_release(&r->m);
		if (get_manifest(c, client, pd, pd, psize, pwhat, &hm, &digest, err) < 0
		    || image_manifest_parse(hm.body, hm.media_type, pwhat, &r->m, err) < 0) {
			image_http_manifest_release(&hm);
			return -1;
		}
		image_http_manifest_release(&hm);
		if (r->m.kind != MANIFEST_IMAGE)
			return rune_error(err, EINVAL, "%s: an index inside an index", pwhat);
		r->manifest_digest = take_ptr(digest);
	} else {
		r->manifest_digest = xstrdup(r->top_digest);
	}
	if (fetch_small(c, client, r->m.config.digest, r->m.config.size, CONFIG_MAX, "image config", err) < 0)
		return -1;
	return load_config(c, r, err);
}

int image_resolve_local(struct image_ctx *c, const char *refstr, struct resolved *r, rune_error_t *err)
{
	struct store_ref sr;
	cleanup_free char *body = NULL;
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
	if (image_store_read_blob(c->store, r->top_digest, MANIFEST_MAX, &body, NULL, err) < 0
	    || image_manifest_parse(body, r->top_media_type, what, &r->m, err) < 0)
		return -1;
	if (r->m.kind == MANIFEST_INDEX) {
		const struct descriptor *d;
		if (image_manifest_select(&r->m, &c->platform, &d, r->name, err) < 0)
			return -1;
		r->manifest_digest = xstrdup(d->digest);
		image_manifest_release(&r->m);
		free(body);
		body = NULL;
		if (image_store_read_blob(c->store, r->manifest_digest, MANIFEST_MAX, &body, NULL, err) < 0
		    || image_manifest_parse(body, NULL, what, &r->m, err) < 0)
			return rune_error_wrap(err, "%s (pulled for another platform?)", r->name);
	} else {
		r->manifest_digest = xstrdup(r->top_digest);
	}
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
