/* The pool of threads that fetches an image's layers into the store
 * (fetch.c): started once the image is resolved, waited on layer by layer. */
#ifndef RUNE_IMAGE_FETCH_H
#define RUNE_IMAGE_FETCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "image_ctx.h"
#include "manifest.h"
#include "registry.h"

struct fetch {
	struct image_ctx *c;
	struct registry_client *client;
	const struct manifest *m;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t next;
	int *state; /* 0 waiting, 1 fetching, 2 present, -1 failed */
	rune_error_t first_err;
	bool cancel;
	unsigned downloaded;
	uint64_t bytes;
	pthread_t *threads;
	size_t n_threads;
};

/* Start fetching m's layers (client NULL: the store must already have them). */
void image_fetch_start(struct fetch *f, struct image_ctx *c, struct registry_client *client, const struct manifest *m);
/* Wait until layer i is in the store, or for the first failure. */
int image_fetch_wait(struct fetch *f, size_t i, rune_error_t *err);
/* Stop the pool and join it; what was downloaded goes into res (may be NULL). */
void image_fetch_finish(struct fetch *f, struct image_result *res);

#endif
