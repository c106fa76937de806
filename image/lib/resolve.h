/* Resolution (resolve.c): a reference to one platform's manifest and its
 * config, through the registry or from the store alone. */
#ifndef RUNE_IMAGE_RESOLVE_H
#define RUNE_IMAGE_RESOLVE_H

#include "error.h"
#include "image_ctx.h"
#include "manifest.h"
#include "ref.h"
#include "registry.h"
#include "trust.h"

/* An image resolved to one platform's manifest and config, all in the store. */
struct resolved {
	struct image_ref ref;
	char *name;                        /* normalised reference */
	char *top_digest, *top_media_type; /* what the reference names */
	int64_t top_size;
	char *manifest_digest;
	struct manifest m;
	struct image_config cfg;
};

/* The manifests a reference names, in memory until the policy decides. */
struct manifest_bodies {
	struct http_manifest top;      /* what the reference names */
	struct http_manifest platform; /* for an index, the platform's manifest (body NULL otherwise) */
};

/* Resolve through the registry: the manifests, the policy's decision on
 * them, then manifests and config into the store. */
int image_resolve_remote(struct image_ctx *c, struct registry_client *client, const char *refstr, struct resolved *r,
                         rune_error_t *err);
/* Resolve the manifests only (r->cfg stays empty; nothing is stored). */
int image_resolve_manifests(struct image_ctx *c, struct registry_client *client, const char *refstr, struct resolved *r,
                            struct manifest_bodies *b, rune_error_t *err);
void image_manifest_bodies_release(struct manifest_bodies *b);
/* What the policy decides on, for r and its manifests. */
void image_resolved_subject(const struct resolved *r, const struct manifest_bodies *b, struct registry_client *client,
                            struct trust_subject *s);
/* Resolve from the store alone (ENOENT if the reference is not there);
 * enforce_policy: the policy decides on it first (unpack, not inspect). */
int image_resolve_local(struct image_ctx *c, const char *refstr, bool enforce_policy, struct resolved *r,
                        rune_error_t *err);
void image_resolved_release(struct resolved *r);
/* The registry client for refstr's repository. */
int image_resolve_client(struct image_ctx *c, const char *refstr, struct registry_client **client, rune_error_t *err);
/* Record r's reference in the store (the image is complete there). */
int image_resolved_record(struct image_ctx *c, const struct resolved *r, rune_error_t *err);
/* Fill what a pull or unpack reports (res may be NULL). */
void image_resolved_result(const struct resolved *r, struct registry_client *client, struct image_result *res);

static inline void resolved_releasep(struct resolved *r)
{
	image_resolved_release(r);
}
static inline void registry_client_freep(struct registry_client **c)
{
	image_registry_client_free(*c);
}
#define cleanup_resolved        __attribute__((cleanup(resolved_releasep)))
#define cleanup_registry_client __attribute__((cleanup(registry_client_freep)))

#endif
