/* What the parts of libruneimage share behind image.h. */
#ifndef RUNE_IMAGE_INTERNAL_H
#define RUNE_IMAGE_INTERNAL_H

#include <pthread.h>

#include "image.h"
#include "manifest.h"
#include "ref.h"
#include "registry.h"
#include "store.h"

struct image_ctx {
	struct image_opts o;
	struct store *store;
	struct platform platform;
	pthread_mutex_t progress_lock;
};

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

/* Resolve through the registry, storing manifests and config. */
int resolve_remote(struct image_ctx *c, struct registry_client *client, const char *refstr, struct resolved *r,
                   rune_error_t *err);
/* Resolve from the store alone (ENOENT if the reference is not there). */
int resolve_local(struct image_ctx *c, const char *refstr, struct resolved *r, rune_error_t *err);
void resolved_release(struct resolved *r);
/* Report progress through the options' callback. */
void report_progress(struct image_ctx *c, const char *digest, int64_t done, int64_t total, int state);
/* Write bundle/config.json for the image (rootfs is bundle/rootfs). */
int bundle_write_config(const struct resolved *r, const char *bundle, const char *rootfs, rune_error_t *err);

#endif
