/* Pulling: resolve a reference to a manifest and config, then fetch layers
 * in parallel into the store while (for unpack) the layers already there are
 * applied in order — downloads overlap with decompression and untar, and
 * memory stays a few buffers per layer whatever the image's size. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "internal.h"
#include "json.h"
#include "log.h"
#include "stream.h"
#include "unpack.h"
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
	if (store_has(c->store, digest, size))
		return 0;
	if (size > (int64_t) max)
		return rune_error(err, EFBIG, "%s %s: %lld bytes, more than the limit of %zu", what, digest,
		                  (long long) size, max);
	struct mem_sink m = { .max = max, .what = what };
	struct blob_sink sink = { .write = mem_write, .restart = mem_restart, .ctx = &m };
	int r = registry_get_blob(client, digest, &sink, err);
	if (r == 0 && size >= 0 && (int64_t) m.len != size)
		r = rune_error(err, EBADMSG, "%s %s: %zu bytes, its descriptor names %lld", what, digest, m.len,
		               (long long) size);
	if (r == 0)
		r = store_write_blob(c->store, digest, m.buf ? m.buf : "", m.len, err);
	free(m.buf);
	return r < 0 ? rune_error_wrap(err, "%s", what) : 0;
}

static char *digest_of(const char *algo_of, const void *data, size_t len)
{
	struct digester *d = digester_new(algo_of && strncmp(algo_of, "sha512:", 7) == 0 ? "sha512:" : "sha256:");
	digester_update(d, data, len);
	char *s = digester_final(d);
	digester_free(d);
	return s;
}

/* GET a manifest by tag or digest and check it is the one asked for. */
static int get_manifest(struct image_ctx *c, struct registry_client *client, const char *ident, const char *want,
                        int64_t want_size, const char *what, struct http_manifest *hm, char **digest, rune_error_t *err)
{
	if (registry_get_manifest(client, ident, MANIFEST_MAX, hm, err) < 0)
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
	return store_write_blob(c->store, *digest, hm->body, hm->len, err);
}

/* Checks made before any layer is fetched (a signature check belongs here too). */
static int check_image(struct resolved *r, rune_error_t *err)
{
	if (r->cfg.n_diff_ids != r->m.n_layers)
		return rune_error(err, EINVAL, "image %s: %zu layers but %zu rootfs.diff_ids in its config", r->name,
		                  r->m.n_layers, r->cfg.n_diff_ids);
	for (size_t i = 0; i < r->m.n_layers; i++) {
		enum compression comp;
		if (layer_compression(&r->m.layers[i], &comp, err) < 0)
			return rune_error_wrap(err, "image %s", r->name);
	}
	return 0;
}

static int load_config(struct image_ctx *c, struct resolved *r, rune_error_t *err)
{
	cleanup_free char *body = NULL;
	cleanup_free char *what = xasprintf("config %s of %s", r->m.config.digest, r->name);
	if (store_read_blob(c->store, r->m.config.digest, CONFIG_MAX, &body, NULL, err) < 0
	    || image_config_parse(body, what, &r->cfg, err) < 0)
		return -1;
	return check_image(r, err);
}

int resolve_remote(struct image_ctx *c, struct registry_client *client, const char *refstr, struct resolved *r,
                   rune_error_t *err)
{
	struct http_manifest hm = { 0 };
	cleanup_free char *digest = NULL;
	memset(r, 0, sizeof(*r));
	if (image_ref_parse(refstr, &r->ref, err) < 0)
		return -1;
	r->name = image_ref_string(&r->ref);
	/* /v2/ first: it settles the scheme and credentials before anything else. */
	if (registry_ping(client, err) < 0)
		return rune_error_wrap(err, "registry of %s", r->name);
	cleanup_free char *what = xasprintf("manifest of %s", r->name);
	int rc = get_manifest(c, client, r->ref.digest ? r->ref.digest : r->ref.tag, r->ref.digest, -1, what, &hm,
	                      &digest, err);
	if (rc == 0)
		rc = manifest_parse(hm.body, hm.media_type, what, &r->m, err);
	if (rc < 0) {
		http_manifest_release(&hm);
		return -1;
	}
	r->top_digest = take_ptr(digest);
	r->top_media_type = xstrdup(r->m.media_type);
	r->top_size = hm.len;
	http_manifest_release(&hm);
	if (r->m.kind == MANIFEST_INDEX) {
		const struct descriptor *d;
		if (manifest_select(&r->m, &c->platform, &d, r->name, err) < 0)
			return -1;
		cleanup_free char *pd = xstrdup(d->digest);
		int64_t psize = d->size;
		cleanup_free char *pwhat = xasprintf("manifest %s of %s", pd, r->name);
		manifest_release(&r->m);
		if (get_manifest(c, client, pd, pd, psize, pwhat, &hm, &digest, err) < 0
		    || manifest_parse(hm.body, hm.media_type, pwhat, &r->m, err) < 0) {
			http_manifest_release(&hm);
			return -1;
		}
		http_manifest_release(&hm);
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

int resolve_local(struct image_ctx *c, const char *refstr, struct resolved *r, rune_error_t *err)
{
	struct store_ref sr;
	cleanup_free char *body = NULL;
	memset(r, 0, sizeof(*r));
	if (image_ref_parse(refstr, &r->ref, err) < 0)
		return -1;
	r->name = image_ref_string(&r->ref);
	if (store_ref_get(c->store, r->name, &sr, err) < 0)
		return -1;
	r->top_digest = take_ptr(sr.digest);
	r->top_media_type = take_ptr(sr.media_type);
	r->top_size = sr.size;
	store_ref_release(&sr);
	cleanup_free char *what = xasprintf("stored manifest of %s", r->name);
	if (store_read_blob(c->store, r->top_digest, MANIFEST_MAX, &body, NULL, err) < 0
	    || manifest_parse(body, r->top_media_type, what, &r->m, err) < 0)
		return -1;
	if (r->m.kind == MANIFEST_INDEX) {
		const struct descriptor *d;
		if (manifest_select(&r->m, &c->platform, &d, r->name, err) < 0)
			return -1;
		r->manifest_digest = xstrdup(d->digest);
		manifest_release(&r->m);
		free(body);
		body = NULL;
		if (store_read_blob(c->store, r->manifest_digest, MANIFEST_MAX, &body, NULL, err) < 0
		    || manifest_parse(body, NULL, what, &r->m, err) < 0)
			return rune_error_wrap(err, "%s (pulled for another platform?)", r->name);
	} else {
		r->manifest_digest = xstrdup(r->top_digest);
	}
	return load_config(c, r, err);
}

void resolved_release(struct resolved *r)
{
	image_ref_release(&r->ref);
	free(r->name);
	free(r->top_digest);
	free(r->top_media_type);
	free(r->manifest_digest);
	manifest_release(&r->m);
	image_config_release(&r->cfg);
	memset(r, 0, sizeof(*r));
}

void report_progress(struct image_ctx *c, const char *digest, int64_t done, int64_t total, int state)
{
	if (c->o.progress == NULL)
		return;
	struct image_progress p = { .digest = digest, .done = done, .total = total, .state = state };
	pthread_mutex_lock(&c->progress_lock);
	c->o.progress(&p, c->o.progress_data);
	pthread_mutex_unlock(&c->progress_lock);
}

/* Layers fetched by a pool of threads; the caller waits for each in order. */
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
	if (store_ingest_write(&s->in, buf, n, err) < 0)
		return -1;
	if (s->in.written - s->last_report >= (1 << 20) || s->in.written == s->d->size) {
		s->last_report = s->in.written;
		report_progress(s->f->c, s->d->digest, s->in.written, s->d->size, PROGRESS_DOWNLOADING);
	}
	return 0;
}

static void layer_restart(void *ctx)
{
	store_ingest_restart(&((struct layer_sink *) ctx)->in);
}

static int fetch_layer(struct fetch *f, const struct descriptor *d, rune_error_t *err)
{
	if (store_has(f->c->store, d->digest, d->size)) {
		report_progress(f->c, d->digest, d->size, d->size, PROGRESS_CACHED);
		return 0;
	}
	struct layer_sink s = { .f = f, .d = d };
	struct blob_sink sink = { .write = layer_write, .restart = layer_restart, .ctx = &s };
	if (store_ingest_begin(f->c->store, d->digest, d->size, &s.in, err) < 0)
		return -1;
	report_progress(f->c, d->digest, 0, d->size, PROGRESS_DOWNLOADING);
	int r = registry_get_blob(f->client, d->digest, &sink, err);
	if (r == 0)
		r = store_ingest_commit(f->c->store, &s.in, err);
	int64_t n = s.in.written;
	store_ingest_release(&s.in);
	if (r < 0)
		return rune_error_wrap(err, "layer %s", d->digest);
	pthread_mutex_lock(&f->lock);
	f->downloaded++;
	f->bytes += n;
	pthread_mutex_unlock(&f->lock);
	report_progress(f->c, d->digest, d->size, d->size, PROGRESS_DONE);
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

static void fetch_start(struct fetch *f, struct image_ctx *c, struct registry_client *client, const struct manifest *m)
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
static int fetch_wait(struct fetch *f, size_t i, rune_error_t *err)
{
	pthread_mutex_lock(&f->lock);
	while (f->state[i] != 2 && f->first_err == NULL && !(f->cancel && f->state[i] <= 0 && f->next > i))
		pthread_cond_wait(&f->cond, &f->lock);
	int r = 0;
	if (f->state[i] != 2)
		r = f->first_err ? rune_error(err, f->first_err->status, "%s", f->first_err->msg)
		                 : rune_error(err, ECANCELED, "layer %s: cancelled", f->m->layers[i].digest);
	pthread_mutex_unlock(&f->lock);
	return r;
}

static void fetch_finish(struct fetch *f, struct image_result *res)
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

static void fill_result(const struct resolved *r, struct registry_client *client, struct image_result *res)
{
	if (res == NULL)
		return;
	res->reference = xstrdup(r->name);
	res->digest = xstrdup(r->top_digest);
	res->manifest_digest = xstrdup(r->manifest_digest);
	res->layers = r->m.n_layers;
	res->retries = client ? registry_retries(client) : 0;
}

static int record_ref(struct image_ctx *c, const struct resolved *r, rune_error_t *err)
{
	char ts[64];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	format_rfc3339nano(&now, true, ts, sizeof(ts));
	struct store_ref sr = { .name = r->name,
		                .digest = r->top_digest,
		                .media_type = r->top_media_type,
		                .size = r->top_size,
		                .pulled = ts };
	return store_ref_set(c->store, &sr, err);
}

int image_pull(struct image_ctx *c, const char *refstr, struct image_result *res, rune_error_t *err)
{
	struct image_ref ref;
	struct registry_client *client = NULL;
	struct resolved r;
	struct fetch f;
	if (res)
		memset(res, 0, sizeof(*res));
	if (image_ref_parse(refstr, &ref, err) < 0)
		return -1;
	int rc = registry_client_new(&c->o.access, &ref, &client, err);
	image_ref_release(&ref);
	if (rc < 0)
		return -1;
	rc = resolve_remote(c, client, refstr, &r, err);
	if (rc == 0) {
		fetch_start(&f, c, client, &r.m);
		for (size_t i = 0; rc == 0 && i < r.m.n_layers; i++)
			rc = fetch_wait(&f, i, err);
		fetch_finish(&f, res);
	}
	if (rc == 0)
		rc = record_ref(c, &r, err);
	if (rc == 0)
		fill_result(&r, client, res);
	resolved_release(&r);
	registry_client_free(client);
	return rc;
}

/* One layer from the store through digest -> decompress -> diff_id -> untar. */
static int apply_layer(struct image_ctx *c, const struct resolved *r, size_t i, const char *dir, enum unpack_mode mode,
                       char *const *lowers, rune_error_t *err)
{
	const struct descriptor *d = &r->m.layers[i];
	enum compression comp;
	int fd;
	if (layer_compression(d, &comp, err) < 0 || store_open_blob(c->store, d->digest, &fd, err) < 0)
		return -1;
	cleanup_free char *what = xasprintf("layer %s", d->digest);
	cleanup_free char *what_u = xasprintf("layer %s (uncompressed, diff_id %s)", d->digest, r->cfg.diff_ids[i]);
	struct reader *rd = reader_fd(fd);
	rd = reader_digest(rd, d->digest, d->size, what);
	rd = reader_decompress(rd, comp, what);
	rd = reader_digest(rd, r->cfg.diff_ids[i], -1, what_u);
	int rc = unpack_layer(rd, dir, mode, lowers, what, NULL, err);
	reader_free(rd);
	if (rc == 0)
		report_progress(c, d->digest, d->size, d->size, PROGRESS_UNPACKED);
	return rc;
}

static int check_bundle(const char *bundle, rune_error_t *err)
{
	static const char *const taken[] = { "rootfs", "layers", "config.json" };
	if (mkdir_p(bundle, 0755, err) < 0)
		return rune_error_wrap(err, "bundle");
	for (size_t i = 0; i < 3; i++) {
		cleanup_free char *p = xasprintf("%s/%s", bundle, taken[i]);
		struct stat st;
		if (lstat(p, &st) == 0)
			return rune_error(err, EEXIST, "bundle %s: %s already exists", bundle, taken[i]);
	}
	return 0;
}

static int unpack_all(struct image_ctx *c, struct fetch *f, const struct resolved *r, const char *staging, bool layers,
                      rune_error_t *err)
{
	cleanup_strv char **lowers = NULL;
	for (size_t i = 0; i < r->m.n_layers; i++) {
		if (fetch_wait(f, i, err) < 0)
			return -1;
		cleanup_free char *dir = layers ? xasprintf("%s/%03zu", staging, i) : xstrdup(staging);
		if (layers && mkdir(dir, 0755) < 0)
			return rune_error(err, errno, "mkdir %s", dir);
		if (apply_layer(c, r, i, dir, layers ? UNPACK_OVERLAY : UNPACK_FLAT, lowers, err) < 0)
			return -1;
		if (layers) {
			/* Lower layers are searched top first. */
			char **nl = NULL;
			strv_append(&nl, dir);
			for (char **l = lowers; l && *l; l++)
				strv_append(&nl, *l);
			cleanup_strvp(&lowers);
			lowers = nl;
		}
	}
	return 0;
}

int image_unpack(struct image_ctx *c, const char *refstr, const char *bundle, bool layers, struct image_result *res,
                 rune_error_t *err)
{
	struct registry_client *client = NULL;
	struct resolved r;
	struct fetch f;
	int rc;
	if (res)
		memset(res, 0, sizeof(*res));
	if (check_bundle(bundle, err) < 0)
		return -1;
	/* A reference the store has is used as it is, as a container engine would. */
	rune_error_t local_err = NULL;
	rc = resolve_local(c, refstr, &r, &local_err);
	if (rc < 0) {
		resolved_release(&r);
		if (local_err->status != ENOENT)
			return rune_error_move(err, &local_err);
		rune_error_release(&local_err);
		struct image_ref ref;
		if (image_ref_parse(refstr, &ref, err) < 0)
			return -1;
		rc = registry_client_new(&c->o.access, &ref, &client, err);
		image_ref_release(&ref);
		if (rc < 0 || resolve_remote(c, client, refstr, &r, err) < 0) {
			resolved_release(&r);
			registry_client_free(client);
			return -1;
		}
	}
	cleanup_free char *abs = realpath(bundle, NULL);
	cleanup_free char *staging = abs ? xasprintf("%s/.unpack-XXXXXX", abs) : NULL;
	if (abs == NULL || mkdtemp(staging) == NULL) {
		rc = rune_error(err, errno, "bundle %s: create a staging directory", bundle);
		resolved_release(&r);
		registry_client_free(client);
		return rc;
	}
	chmod(staging, 0755);
	if (client == NULL) {
		/* Everything must already be in the store. */
		for (size_t i = 0; i < r.m.n_layers; i++)
			if (!store_has(c->store, r.m.layers[i].digest, r.m.layers[i].size))
				rc = rune_error(err, ENOENT,
				                "layer %s of %s is missing from the store (pull the image again)",
				                r.m.layers[i].digest, r.name);
	}
	if (rc == 0) {
		fetch_start(&f, c, client, &r.m);
		rc = unpack_all(c, &f, &r, staging, layers, err);
		fetch_finish(&f, res);
	}
	cleanup_free char *final = xasprintf("%s/%s", abs, layers ? "layers" : "rootfs");
	if (rc == 0 && rename(staging, final) < 0)
		rc = rune_error(err, errno, "rename %s to %s", staging, final);
	if (rc == 0 && layers) {
		cleanup_free char *rootfs = xasprintf("%s/rootfs", abs);
		if (mkdir(rootfs, 0755) < 0)
			rc = rune_error(err, errno, "mkdir %s", rootfs);
	}
	if (rc == 0)
		rc = bundle_write_config(&r, abs, final, err);
	if (rc == 0 && client)
		rc = record_ref(c, &r, err);
	if (rc < 0) {
		/* Nothing that looks complete stays behind. */
		rune_remove_tree(staging, NULL);
		rune_remove_tree(final, NULL);
	}
	if (rc == 0)
		fill_result(&r, client, res);
	resolved_release(&r);
	registry_client_free(client);
	return rc;
}
