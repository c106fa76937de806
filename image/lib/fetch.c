/* The fetch pool: a few threads download an image's layers into the store,
 * in order of need, while the caller waits for each in turn (and, when
 * unpacking, applies the ones already there). The first failure cancels the
 * rest. */
#include "fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "util.h"

struct layer_sink {
	struct fetch *f;
	struct ingest in;
	const struct descriptor *d;
	int64_t last_report;
};

static int layer_write(void *ctx, const void *buf, size_t n, rune_error_t *err)
{
	struct layer_sink *s = ctx;
	if (__atomic_load_n(&s->f->cancel, __ATOMIC_RELAXED))
		return rune_error(err, ECANCELED, "cancelled");
	if (image_store_ingest_write(&s->in, buf, n, err) < 0)
		return -1;
	if (s->in.written - s->last_report >= (1 << 20) || s->in.written == s->d->size) {
		s->last_report = s->in.written;
		image_report_progress(s->f->c, s->d->digest, s->in.written, s->d->size, PROGRESS_DOWNLOADING);
	}
	return 0;
}

static void layer_restart(void *ctx)
{
	image_store_ingest_restart(&((struct layer_sink *) ctx)->in);
}

static int fetch_layer(struct fetch *f, const struct descriptor *d, rune_error_t *err)
{
	if (image_store_has(f->c->store, d->digest, d->size)) {
		image_report_progress(f->c, d->digest, d->size, d->size, PROGRESS_CACHED);
		return 0;
	}
	struct layer_sink s = { .f = f, .d = d };
	struct blob_sink sink = { .write = layer_write, .restart = layer_restart, .ctx = &s };
	if (image_store_ingest_begin(f->c->store, d->digest, d->size, &s.in, err) < 0)
		return -1;
	image_report_progress(f->c, d->digest, 0, d->size, PROGRESS_DOWNLOADING);
	int r = image_registry_get_blob(f->client, d->digest, &sink, err);
	if (r == 0)
		r = image_store_ingest_commit(f->c->store, &s.in, err);
	int64_t n = s.in.written;
	image_store_ingest_release(&s.in);
	if (r < 0)
		return rune_error_wrap(err, "layer %s", d->digest);
	pthread_mutex_lock(&f->lock);
	f->downloaded++;
	f->bytes += n;
	pthread_mutex_unlock(&f->lock);
	image_report_progress(f->c, d->digest, d->size, d->size, PROGRESS_DONE);
	return 0;
}

static void *fetch_worker(void *arg)
{
	struct fetch *f = arg;
	for (;;) {
		pthread_mutex_lock(&f->lock);
		size_t i = f->next++;
		bool stop = f->cancel || i >= f->m->n_layers;
		if (!stop)
			f->state[i] = 1;
		pthread_mutex_unlock(&f->lock);
		if (stop)
			return NULL;
		rune_error_t e = NULL;
		int r = fetch_layer(f, &f->m->layers[i], &e);
		pthread_mutex_lock(&f->lock);
		f->state[i] = r < 0 ? -1 : 2;
		if (r < 0 && f->first_err == NULL && !f->cancel)
			f->first_err = take_ptr(e);
		if (r < 0)
			f->cancel = true;
		pthread_cond_broadcast(&f->cond);
		pthread_mutex_unlock(&f->lock);
		rune_error_release(&e);
	}
}

void image_fetch_start(struct fetch *f, struct image_ctx *c, struct registry_client *client, const struct manifest *m)
{
	memset(f, 0, sizeof(*f));
	f->c = c;
	f->client = client;
	f->m = m;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->state = xcalloc(m->n_layers + 1, sizeof(int));
	size_t want = c->o.parallel > 0 ? (size_t) c->o.parallel : 3;
	if (want > m->n_layers)
		want = m->n_layers;
	f->threads = xcalloc(want + 1, sizeof(pthread_t));
	for (size_t i = 0; i < want; i++)
		if (pthread_create(&f->threads[f->n_threads], NULL, fetch_worker, f) == 0)
			f->n_threads++;
	if (f->n_threads == 0 && m->n_layers > 0)
		fetch_worker(f); /* no threads to be had: fetch here */
}

/* Wait until layer i is in the store, or the first failure. */
int image_fetch_wait(struct fetch *f, size_t i, rune_error_t *err)
{
	pthread_mutex_lock(&f->lock);
	while (f->state[i] != 2 && f->first_err == NULL && !(f->cancel && f->state[i] <= 0 && f->next > i))
		pthread_cond_wait(&f->cond, &f->lock);
	int r = 0;
	if (f->state[i] != 2)
		/* The fetcher's error, copied as it is (its message already ends in
		 * the cause's text). */
		r = f->first_err ? (rune_error(err, 0, "%s", f->first_err->msg),
		                    rune_error_set_status(err, f->first_err->status))
		                 : rune_error(err, ECANCELED, "layer %s: cancelled", f->m->layers[i].digest);
	pthread_mutex_unlock(&f->lock);
	return r;
}

void image_fetch_finish(struct fetch *f, struct image_result *res)
{
	pthread_mutex_lock(&f->lock);
	f->cancel = true;
	pthread_mutex_unlock(&f->lock);
	for (size_t i = 0; i < f->n_threads; i++)
		pthread_join(f->threads[i], NULL);
	if (res) {
		res->downloaded = f->downloaded;
		res->bytes = f->bytes;
	}
	rune_error_release(&f->first_err);
	free(f->state);
	free(f->threads);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
}
