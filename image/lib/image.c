/* The store-side operations of libruneimage: context, inspect, list, rm, gc. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "decrypt.h"
#include "image_ctx.h"
#include "registry.h"
#include "resolve.h"
#include "trust.h"
#include "json.h"
#include "util.h"

int image_ctx_new(const struct image_opts *o, struct image_ctx **out, rune_error_t *err)
{
	struct image_ctx *c = xcalloc(1, sizeof(*c));
	c->o = *o;
	if (c->o.root == NULL)
		c->o.root = STORE_DEFAULT_ROOT;
	pthread_mutex_init(&c->progress_lock, NULL);
	int r =
	    o->platform ? image_platform_parse(o->platform, &c->platform, err) : (image_platform_host(&c->platform), 0);
	if (r == 0)
		r = image_store_open(c->o.root, false, &c->store, err);
	if (r < 0) {
		image_ctx_free(c);
		return -1;
	}
	image_registry_global_init();
	*out = c;
	return 0;
}

void image_ctx_free(struct image_ctx *c)
{
	if (c == NULL)
		return;
	image_store_close(c->store);
	image_trust_release(c);
	image_decrypt_release(c);
	image_platform_release(&c->platform);
	pthread_mutex_destroy(&c->progress_lock);
	free(c);
}

void image_report_progress(struct image_ctx *c, const char *digest, int64_t done, int64_t total, int state)
{
	if (c->o.progress == NULL)
		return;
	struct image_progress p = { .digest = digest, .done = done, .total = total, .state = state };
	pthread_mutex_lock(&c->progress_lock);
	c->o.progress(&p, c->o.progress_data);
	pthread_mutex_unlock(&c->progress_lock);
}

void image_result_release(struct image_result *r)
{
	free(r->reference);
	free(r->digest);
	free(r->manifest_digest);
	memset(r, 0, sizeof(*r));
}

int image_inspect(struct image_ctx *c, const char *ref, bool config_only, yajl_gen g, rune_error_t *err)
{
	struct resolved r;
	if (image_resolve_local(c, ref, false, &r, err) < 0) {
		image_resolved_release(&r);
		return -1;
	}
	if (config_only) {
		rune_json_gen_value(g, r.cfg.tree);
		image_resolved_release(&r);
		return 0;
	}
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "reference", r.name);
	rune_json_gen_kv_str(g, "digest", r.top_digest);
	rune_json_gen_kv_str(g, "mediaType", r.top_media_type ? r.top_media_type : "");
	rune_json_gen_kv_str(g, "manifestDigest", r.manifest_digest);
	cleanup_free char *platform =
	    xasprintf("%s/%s%s%s", r.cfg.os ? r.cfg.os : "", r.cfg.architecture ? r.cfg.architecture : "",
	              r.cfg.variant ? "/" : "", r.cfg.variant ? r.cfg.variant : "");
	rune_json_gen_kv_str(g, "platform", platform);
	int64_t total = 0;
	for (size_t i = 0; i < r.m.n_layers; i++)
		total += r.m.layers[i].size;
	rune_json_gen_kv_int(g, "layersSize", total);
	/* Each layer, and how it is encrypted (schemes and recipients; no secrets). */
	rune_json_gen_key(g, "layers");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r.m.n_layers; i++) {
		const struct descriptor *d = &r.m.layers[i];
		enum compression comp;
		bool encrypted = false;
		cleanup_error rune_error_t ignored = NULL;
		image_layer_compression(d, &comp, &encrypted, &ignored);
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "digest", d->digest);
		rune_json_gen_kv_str(g, "mediaType", d->media_type);
		rune_json_gen_kv_int(g, "size", d->size);
		rune_json_gen_kv_bool(g, "encrypted", encrypted);
		if (encrypted) {
			rune_json_gen_key(g, "recipients");
			image_layer_encryption_json(d, g);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	rune_json_gen_key(g, "manifest");
	rune_json_gen_value(g, r.m.tree);
	rune_json_gen_key(g, "config");
	rune_json_gen_value(g, r.cfg.tree);
	yajl_gen_map_close(g);
	image_resolved_release(&r);
	return 0;
}

int image_list(struct image_ctx *c, yajl_gen g, rune_error_t *err)
{
	struct store_ref *refs = NULL;
	size_t n = 0;
	if (image_store_refs(c->store, &refs, &n, err) < 0)
		return -1;
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "reference", refs[i].name);
		rune_json_gen_kv_str(g, "digest", refs[i].digest);
		if (refs[i].media_type)
			rune_json_gen_kv_str(g, "mediaType", refs[i].media_type);
		if (refs[i].pulled)
			rune_json_gen_kv_str(g, "pulled", refs[i].pulled);
		yajl_gen_map_close(g);
		image_store_ref_release(&refs[i]);
	}
	yajl_gen_array_close(g);
	free(refs);
	return 0;
}

int image_remove(struct image_ctx *c, const char *refstr, rune_error_t *err)
{
	struct image_ref ref;
	if (image_ref_parse(refstr, &ref, err) < 0)
		return -1;
	cleanup_free char *name = image_ref_string(&ref);
	image_ref_release(&ref);
	return image_store_ref_del(c->store, name, err);
}

int image_fsck(const struct image_opts *o, struct image_fsck *r, rune_error_t *err)
{
	struct store *s;
	memset(r, 0, sizeof(*r));
	if (image_store_open(o->root ? o->root : STORE_DEFAULT_ROOT, true, &s, err) < 0)
		return -1;
	int rc = image_store_fsck(s, r, err);
	image_store_close(s);
	return rc;
}

void image_fsck_release(struct image_fsck *r)
{
	cleanup_strvp(&r->problems);
	cleanup_strvp(&r->debris);
	memset(r, 0, sizeof(*r));
}

int image_gc(const struct image_opts *o, size_t *removed, uint64_t *bytes, rune_error_t *err)
{
	struct store *s;
	if (image_store_open(o->root ? o->root : STORE_DEFAULT_ROOT, true, &s, err) < 0)
		return -1;
	int r = image_store_gc(s, removed, bytes, err);
	image_store_close(s);
	return r;
}
