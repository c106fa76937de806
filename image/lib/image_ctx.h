/* What the parts of libruneimage share behind image.h: the context an
 * image_ctx_new makes (options, store, platform) and progress reports. */
#ifndef RUNE_IMAGE_CTX_H
#define RUNE_IMAGE_CTX_H

#include <pthread.h>

#include "image.h"
#include "manifest.h"
#include "store.h"

struct policy;
struct registries_d;
struct decrypt_keys;

struct image_ctx {
	struct image_opts o;
	struct store *store;
	struct platform platform;
	pthread_mutex_t progress_lock;
	/* Loaded on first use (trust.c): a pull needs them, inspect and list do not. */
	struct policy *policy;
	struct registries_d *registries_d;
	struct decrypt_keys *decrypt_keys; /* decrypt.c, on the first encrypted layer */
};

/* Report progress through the options' callback (serialised across threads). */
void image_report_progress(struct image_ctx *c, const char *digest, int64_t done, int64_t total, int state);

#endif
