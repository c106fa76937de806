#include "registry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "log.h"
#include "stream.h"
#include "util.h"

#define MAX_ATTEMPTS    6
#define LOW_SPEED_BYTES 1024L
#define ERRBODY_MAX     4096
#define TOKEN_MAX       (1 << 20)
#define USER_AGENT      "rune-image/" RUNE_VERSION

struct endpoint_state {
	struct registry_endpoint ep;
	bool plain_http; /* an insecure endpoint that turned out to speak HTTP */
	char *token;     /* Bearer token for this host and repository */
	bool basic;      /* the registry asked for Basic auth */
};

/* Handles kept between requests (one per fetch worker and the caller). */
#define IDLE_HANDLES 4

struct registry_client {
	struct endpoint_state *eps;
	size_t n;
	char *user, *pass;
	char *ca_pem, *cert, *key;
	size_t ca_len;
	pthread_mutex_t lock;
	unsigned retries;
	long timeout;             /* seconds without progress */
	bool supports_signatures; /* /v2/ answered X-Registry-Supports-Signatures: 1 */
	CURL *idle[IDLE_HANDLES]; /* finished handles, kept for their open connections */
	size_t n_idle;
};

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void image_registry_global_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, curl_init_once);
}

int image_registry_client_new(const struct registry_access *a, const struct image_ref *ref,
                              struct registry_client **out, rune_error_t *err)
{
	struct registry_endpoint *eps = NULL;
	size_t n = 0;
	image_registry_global_init();
	if (image_access_endpoints(a, ref, &eps, &n, err) < 0)
		return -1;
	struct registry_client *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->timeout = a->timeout > 0 ? a->timeout : 30;
	c->eps = xcalloc(n, sizeof(*c->eps));
	c->n = n;
	for (size_t i = 0; i < n; i++)
		c->eps[i].ep = eps[i];
	free(eps);
	if (image_access_credentials(a, ref->registry, &c->user, &c->pass, err) < 0) {
		image_registry_client_free(c);
		return -1;
	}
	/* TLS material of the registry itself; mirrors use the system CAs plus their own. */
	if (image_access_tls(a, c->eps[n - 1].ep.host, &c->ca_pem, &c->ca_len, &c->cert, &c->key, err) < 0) {
		image_registry_client_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

void image_registry_client_free(struct registry_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_idle; i++) /* (before the TLS material they point to) */
		curl_easy_cleanup(c->idle[i]);
	for (size_t i = 0; i < c->n; i++) {
		free(c->eps[i].ep.host);
		free(c->eps[i].ep.repository);
		free(c->eps[i].token);
	}
	free(c->eps);
	free(c->user);
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	free(c->pass);
	free(c->ca_pem);
	free(c->cert);
	free(c->key);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

unsigned image_registry_retries(struct registry_client *c)
{
	pthread_mutex_lock(&c->lock);
	unsigned r = c->retries;
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* One HTTP exchange's state, as curl's callbacks see it. */
struct xfer {
	long status;
	char *content_type, *digest, *www_auth, *content_range;
	bool supports_signatures;
	/* body destination: a sink (blobs), or memory up to max */
	struct blob_sink *sink;
	uint64_t offset;   /* Range start asked for */
	uint64_t received; /* bytes passed to the sink in total, across attempts */
	bool body_started;
	char *mem;
	size_t mem_len, mem_max;
	char errbody[ERRBODY_MAX];
	size_t errbody_len;
	bool errbody_full; /* an error body longer than we keep: the transfer was cut short */
	rune_error_t err;  /* set when we stopped the transfer ourselves */
};

static void xfer_reset_headers(struct xfer *x)
{
	free(x->content_type);
	free(x->digest);
	free(x->www_auth);
	free(x->content_range);
	x->content_type = x->digest = x->www_auth = x->content_range = NULL;
	x->status = 0;
	x->supports_signatures = false;
	x->body_started = false;
	x->errbody_len = 0;
	x->errbody_full = false;
}

static char *header_value(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return NULL;
	const char *v = line + k + 1;
	const char *e = line + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
		e--;
	return strndup(v, e - v);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *data)
{
	struct xfer *x = data;
	size_t n = size * nitems;
	char *v;
	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* A new response (after a redirect or 100-continue): forget the last. */
		xfer_reset_headers(x);
		const char *sp = memchr(buf, ' ', n);
		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
	} else if ((v = header_value(buf, n, "Content-Type")) != NULL) {
		free(x->content_type);
		x->content_type = v;
	} else if ((v = header_value(buf, n, "Docker-Content-Digest")) != NULL) {
		free(x->digest);
		x->digest = v;
	} else if ((v = header_value(buf, n, "WWW-Authenticate")) != NULL) {
		free(x->www_auth);
		x->www_auth = v;
	} else if ((v = header_value(buf, n, "Content-Range")) != NULL) {
		free(x->content_range);
		x->content_range = v;
	} else if ((v = header_value(buf, n, "X-Registry-Supports-Signatures")) != NULL) {
		x->supports_signatures = strcmp(v, "1") == 0;
		free(v);
	}
	return n;
}

/* The first body byte of a successful response: is it what we asked for? */
static bool body_start(struct xfer *x)
{
	x->body_started = true;
	if (x->sink == NULL || x->offset == 0)
		return true;
	if (x->status == 206 && x->content_range) {
		unsigned long long start = 0;
		if (sscanf(x->content_range, "bytes %llu-", &start) == 1 && start == x->offset)
			return true;
	}
	/* The server ignored our Range: start over. */
	x->sink->restart(x->sink->ctx);
	x->received = 0;
	x->offset = 0;
	return true;
}

static size_t on_body(char *buf, size_t size, size_t nitems, void *data)
{
	struct xfer *x = data;
	size_t n = size * nitems;
	if (x->status < 200 || x->status >= 300) {
		size_t room = sizeof(x->errbody) - 1 - x->errbody_len;
		size_t k = n < room ? n : room;
		memcpy(x->errbody + x->errbody_len, buf, k);
		x->errbody_len += k;
		x->errbody[x->errbody_len] = '\0';
		/* The status says enough: stop reading a long (or endless) error body. */
		if (k < n) {
			x->errbody_full = true;
			return 0;
		}
		return n;
	}
	if (!x->body_started)
		body_start(x);
	if (x->sink) {
		if (x->sink->write(x->sink->ctx, buf, n, &x->err) < 0)
			return 0;
		x->received += n;
		return n;
	}
	if (x->mem_len + n > x->mem_max) {
		rune_error(&x->err, 0, "response exceeds the limit of %zu bytes", x->mem_max);
		return 0;
	}
	x->mem = xrealloc(x->mem, x->mem_len + n + 1);
	memcpy(x->mem + x->mem_len, buf, n);
	x->mem_len += n;
	x->mem[x->mem_len] = '\0';
	return n;
}

/* A handle set up for c: a fresh one, or one a finished request left, reset
 * to nothing but its connection cache — so the blobs of a pull reuse their
 * connections (a TLS handshake each, otherwise). libcurl reuses a connection
 * only for the same host and the same TLS settings. */
static CURL *new_handle(struct registry_client *c, bool insecure)
{
	CURL *h = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->n_idle > 0)
		h = c->idle[--c->n_idle];
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_reset(h);
	else if ((h = curl_easy_init()) == NULL)
		rune_oom();
	curl_easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, insecure ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout);
	/* A stalled transfer is a dropped one: retry it (from where it stopped).
	 * Under 1 KiB/s counts as stalled, so a registry dripping bytes cannot
	 * hold a pull for ever. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	if (insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->ca_pem) {
		struct curl_blob blob = { .data = c->ca_pem, .len = c->ca_len, .flags = CURL_BLOB_NOCOPY };
		curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->cert) {
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
	}
	return h;
}

/* A request is over: keep its handle for the next one, or close it. */
static void release_handle(struct registry_client *c, CURL *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->n_idle < IDLE_HANDLES) {
		c->idle[c->n_idle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	if (h)
		curl_easy_cleanup(h);
}

static bool transient_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_COULDNT_RESOLVE_HOST:
		return true;
	default:
		return false;
	}
}

static void backoff(struct registry_client *c, int attempt)
{
	struct timespec ts = { 0, 0 };
	long ms = 100L << attempt; /* 100 ms, 200, 400, ... */
	if (ms > 3000)
		ms = 3000;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&c->lock);
	c->retries++;
	pthread_mutex_unlock(&c->lock);
}

/* Pull one parameter out of a WWW-Authenticate challenge. */
static char *challenge_param(const char *ch, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = ch; (p = strcasestr(p, name)) != NULL; p += n) {
		if (p > ch && isalnum((unsigned char) p[-1]))
			continue;
		const char *v = p + n;
		while (*v == ' ')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ')
			v++;
		if (*v == '"') {
			const char *e = strchr(v + 1, '"');
			return e ? strndup(v + 1, e - v - 1) : NULL;
		}
		return strndup(v, strcspn(v, ", "));
	}
	return NULL;
}

static char *url_escape(CURL *h, const char *s)
{
	char *e = curl_easy_escape(h, s, 0);
	char *r = xstrdup(e ? e : "");
	curl_free(e);
	return r;
}

/* The Bearer token flow: ask the challenge's realm for a pull token. */
static int fetch_token(struct registry_client *c, struct endpoint_state *es, const char *challenge, rune_error_t *err)
{
	cleanup_free char *realm = challenge_param(challenge, "realm");
	cleanup_free char *service = challenge_param(challenge, "service");
	cleanup_free char *scope = challenge_param(challenge, "scope");
	if (realm == NULL)
		return rune_error(err, EPROTO, "registry %s: Bearer challenge without a realm: %s", es->ep.host,
		                  challenge);
	if (strncmp(realm, "https://", 8) != 0 && !(es->ep.insecure && strncmp(realm, "http://", 7) == 0))
		return rune_error(err, EPROTO, "registry %s: refusing token realm %s (not https)", es->ep.host, realm);
	CURL *h = new_handle(c, es->ep.insecure);
	cleanup_free char *want_scope = scope ? NULL : xasprintf("repository:%s:pull", es->ep.repository);
	cleanup_free char *svc = service ? url_escape(h, service) : NULL;
	cleanup_free char *scp = url_escape(h, scope ? scope : want_scope);
	cleanup_free char *url = xasprintf("%s%sscope=%s%s%s", realm, strchr(realm, '?') ? "&" : "?", scp,
	                                   svc ? "&service=" : "", svc ? svc : "");
	struct xfer x = { .mem_max = TOKEN_MAX };
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	if (c->user) {
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->pass);
	}
	CURLcode rc = curl_easy_perform(h);
	release_handle(c, h);
	int r = 0;
	yajl_val tree = NULL;
	char *token = NULL;
	if (rc != CURLE_OK)
		r = rune_error(err, 0, "token server %s: %s", realm, x.err ? x.err->msg : curl_easy_strerror(rc));
	else if (x.status == 401 || x.status == 403)
		r = rune_error(err, 0, "token server %s: authentication failed (HTTP %ld)%s", realm, x.status,
		               c->user ? "" : "; no credentials configured");
	else if (x.status != 200)
		r = rune_error(err, 0, "token server %s: HTTP %ld", realm, x.status);
	else if (rune_json_parse(x.mem ? x.mem : "", "token response", &tree, err) < 0)
		r = rune_error_wrap(err, "token server %s", realm);
	else if (rune_json_read_string(rune_json_get(tree, "token"), "token", &token, err) < 0
	         || (token == NULL
	             && rune_json_read_string(rune_json_get(tree, "access_token"), "access_token", &token, err) < 0))
		r = rune_error_wrap(err, "token server %s", realm);
	else if (token == NULL || *token == '\0')
		r = rune_error(err, EPROTO, "token server %s: no token in the response", realm);
	if (tree)
		yajl_tree_free(tree);
	rune_error_release(&x.err);
	free(x.mem);
	xfer_reset_headers(&x);
	if (r == 0) {
		pthread_mutex_lock(&c->lock);
		free(es->token);
		es->token = token;
		pthread_mutex_unlock(&c->lock);
	} else {
		free(token);
	}
	return r;
}

/* What the registry's error body says, for messages. */
static char *registry_error_text(const struct xfer *x)
{
	yajl_val tree = NULL;
	rune_error_t ignored = NULL;
	char *msg = NULL;
	if (x->errbody_len && rune_json_parse(x->errbody, "error", &tree, &ignored) == 0) {
		yajl_val errs = rune_json_get(tree, "errors");
		if (YAJL_IS_ARRAY(errs) && errs->u.array.len > 0) {
			yajl_val e = errs->u.array.values[0];
			yajl_val code = rune_json_get(e, "code"), m = rune_json_get(e, "message");
			msg = xasprintf("%s%s%s", YAJL_IS_STRING(code) ? code->u.string : "",
			                YAJL_IS_STRING(m) ? ": " : "", YAJL_IS_STRING(m) ? m->u.string : "");
		}
		yajl_tree_free(tree);
	}
	rune_error_release(&ignored);
	return msg;
}

enum outcome { DONE, NEXT_ENDPOINT, FAILED };

struct request {
	const char *api;  /* "v2", or "extensions/v2" for the signature extension */
	const char *kind; /* "manifests", "blobs", "referrers", "signatures", or "" for the ping */
	const char *reference;
	const char *accept;
};

/* One GET against one endpoint, with auth, scheme fallback and retries. */
static enum outcome get_from(struct registry_client *c, struct endpoint_state *es, CURL *h, const struct request *rq,
                             struct xfer *x, rune_error_t *err)
{
	bool authed = false;
	for (int attempt = 0; attempt < MAX_ATTEMPTS;) {
		cleanup_free char *url =
		    rq->kind[0] ? xasprintf("%s://%s/%s/%s/%s/%s", es->plain_http ? "http" : "https", es->ep.host,
		                            rq->api ? rq->api : "v2", es->ep.repository, rq->kind, rq->reference)
		                : xasprintf("%s://%s/v2/", es->plain_http ? "http" : "https", es->ep.host);
		struct curl_slist *hdrs = NULL;
		cleanup_free char *accept = rq->accept ? xasprintf("Accept: %s", rq->accept) : NULL;
		cleanup_free char *range =
		    x->sink && x->received ? xasprintf("Range: bytes=%llu-", (unsigned long long) x->received) : NULL;
		pthread_mutex_lock(&c->lock);
		cleanup_free char *bearer = es->token ? xasprintf("Authorization: Bearer %s", es->token) : NULL;
		bool basic = es->basic;
		pthread_mutex_unlock(&c->lock);
		if (accept)
			hdrs = curl_slist_append(hdrs, accept);
		if (range)
			hdrs = curl_slist_append(hdrs, range);
		if (bearer)
			hdrs = curl_slist_append(hdrs, bearer);
		x->offset = x->received;
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
		curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(h, CURLOPT_USERNAME, basic && c->user ? c->user : NULL);
		curl_easy_setopt(h, CURLOPT_PASSWORD, basic && c->user ? c->pass : NULL);
		xfer_reset_headers(x);
		CURLcode rc = curl_easy_perform(h);
		if (rc == CURLE_WRITE_ERROR && x->errbody_full)
			rc = CURLE_OK;
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
		curl_slist_free_all(hdrs);
		if (x->err) {
			rune_error_move(err, &x->err);
			return FAILED;
		}
		if (rc != CURLE_OK) {
			if (es->ep.insecure && !es->plain_http
			    && (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING
			        || rc == CURLE_COULDNT_CONNECT)) {
				/* An insecure registry may speak plain HTTP. */
				es->plain_http = true;
				continue;
			}
			if (transient_curl(rc) && attempt + 1 < MAX_ATTEMPTS) {
				log_debug("GET %s: %s; retrying", url, curl_easy_strerror(rc));
				backoff(c, attempt++);
				continue;
			}
			if (rc == CURLE_OPERATION_TIMEDOUT)
				rune_error(err, 0, "GET %s: stalled: under %ld bytes/s for %ld s, %d times (--timeout)",
				           url, LOW_SPEED_BYTES, c->timeout, attempt + 1);
			else
				rune_error(err, 0, "GET %s: %s", url, curl_easy_strerror(rc));
			return es->ep.mirror ? NEXT_ENDPOINT : FAILED;
		}
		if (x->status == 401 && !authed && x->www_auth) {
			authed = true;
			if (strncasecmp(x->www_auth, "Bearer", 6) == 0) {
				if (fetch_token(c, es, x->www_auth, err) < 0)
					return FAILED;
			} else if (strncasecmp(x->www_auth, "Basic", 5) == 0) {
				if (c->user == NULL)
					break;
				pthread_mutex_lock(&c->lock);
				es->basic = true;
				pthread_mutex_unlock(&c->lock);
			}
			continue;
		}
		if (x->status >= 200 && x->status < 300)
			return DONE;
		if ((x->status >= 500 || x->status == 429 || x->status == 408) && attempt + 1 < MAX_ATTEMPTS) {
			log_debug("GET %s: HTTP %ld; retrying", url, x->status);
			backoff(c, attempt++);
			continue;
		}
		cleanup_free char *why = registry_error_text(x);
		if (x->status == 404) {
			/* Callers tell "not there" (a missing signature tag) from failures. */
			rune_error(err, 0, "GET %s: HTTP 404%s%s", url, why ? ": " : "", why ? why : "");
			(*err)->status = ENOENT;
		} else if (x->status == 401 || x->status == 403)
			rune_error(err, 0, "GET %s: HTTP %ld, authentication failed%s%s%s", url, x->status,
			           c->user ? "" : " (no credentials for this registry)", why ? ": " : "",
			           why ? why : "");
		else
			rune_error(err, 0, "GET %s: HTTP %ld%s%s", url, x->status, why ? ": " : "", why ? why : "");
		return es->ep.mirror && x->status != 401 && x->status != 403 ? NEXT_ENDPOINT : FAILED;
	}
	if (!x->err && !*err)
		rune_error(err, 0, "registry %s: authentication required, and no credentials are configured",
		           es->ep.host);
	return FAILED;
}

static int get(struct registry_client *c, const struct request *rq, struct xfer *x, rune_error_t *err)
{
	for (size_t i = 0; i < c->n; i++) {
		CURL *h = new_handle(c, c->eps[i].ep.insecure);
		enum outcome o = get_from(c, &c->eps[i], h, rq, x, err);
		release_handle(c, h);
		if (o == DONE)
			return 0;
		if (o == FAILED)
			return -1;
		/* A mirror that failed: say so at debug and try the next place. */
		if (i + 1 < c->n) {
			log_debug("mirror %s: %s", c->eps[i].ep.host, (*err)->msg);
			rune_error_release(err);
		}
	}
	return -1;
}

int image_registry_ping(struct registry_client *c, rune_error_t *err)
{
	struct request rq = { .kind = "" };
	struct xfer x = { .mem_max = 1 << 16 };
	int r = get(c, &rq, &x, err);
	c->supports_signatures = r == 0 && x.supports_signatures;
	free(x.mem);
	xfer_reset_headers(&x);
	return r;
}

bool image_registry_supports_signatures(struct registry_client *c)
{
	return c->supports_signatures;
}

#define MANIFEST_ACCEPT                                                                                                \
	"application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, "                        \
	"application/vnd.docker.distribution.manifest.list.v2+json, "                                                  \
	"application/vnd.docker.distribution.manifest.v2+json, "                                                       \
	"application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1"

int image_registry_get_doc(struct registry_client *c, bool extension, const char *kind, const char *reference,
                           const char *accept, size_t max, struct http_manifest *out, rune_error_t *err)
{
	struct request rq = {
		.api = extension ? "extensions/v2" : "v2", .kind = kind, .reference = reference, .accept = accept
	};
	struct xfer x = { .mem_max = max };
	memset(out, 0, sizeof(*out));
	if (get(c, &rq, &x, err) < 0) {
		free(x.mem);
		xfer_reset_headers(&x);
		return -1;
	}
	out->body = x.mem ? x.mem : xstrdup("");
	out->len = x.mem_len;
	out->media_type = x.content_type ? xstrdup(x.content_type) : NULL;
	/* Parameters after ';' are not part of the media type. */
	if (out->media_type)
		out->media_type[strcspn(out->media_type, "; ")] = '\0';
	out->digest = x.digest ? xstrdup(x.digest) : NULL;
	xfer_reset_headers(&x);
	return 0;
}

int image_registry_get_manifest(struct registry_client *c, const char *reference, size_t max, struct http_manifest *out,
                                rune_error_t *err)
{
	return image_registry_get_doc(c, false, "manifests", reference, MANIFEST_ACCEPT, max, out, err);
}

void image_http_manifest_release(struct http_manifest *m)
{
	free(m->body);
	free(m->media_type);
	free(m->digest);
	memset(m, 0, sizeof(*m));
}

int image_registry_get_blob(struct registry_client *c, const char *digest, struct blob_sink *sink, rune_error_t *err)
{
	struct request rq = { .kind = "blobs", .reference = digest };
	struct xfer x = { .sink = sink };
	int r = get(c, &rq, &x, err);
	xfer_reset_headers(&x);
	return r;
}

struct mem_sink {
	char *buf;
	size_t len, max;
	const char *digest;
};

static int mem_write(void *ctx, const void *buf, size_t n, rune_error_t *err)
{
	struct mem_sink *m = ctx;
	if (m->len + n > m->max)
		return rune_error(err, 0, "blob %s: larger than the limit of %zu bytes", m->digest, m->max);
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

int image_registry_get_small_blob(struct registry_client *c, const char *digest, size_t max, char **out, size_t *len,
                                  rune_error_t *err)
{
	struct mem_sink m = { .max = max, .digest = digest };
	struct blob_sink sink = { .write = mem_write, .restart = mem_restart, .ctx = &m };
	cleanup_free char *what = xasprintf("blob %s", digest);
	if (image_registry_get_blob(c, digest, &sink, err) < 0
	    || image_digest_check(m.buf ? m.buf : "", m.len, digest, what, err) < 0) {
		free(m.buf);
		return -1;
	}
	*out = m.buf ? m.buf : xstrdup("");
	*len = m.len;
	return 0;
}

int image_http_get(const char *url, size_t max, char **body, size_t *len, long *status, rune_error_t *err)
{
	struct registry_client none = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct xfer x = { .mem_max = max };
	image_registry_global_init();
	CURL *h = new_handle(&none, false);
	/* Plain HTTP only if the URL says so; never downgraded by a redirect. */
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, strncmp(url, "http://", 7) == 0 ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_cleanup(h);
	if (rc == CURLE_WRITE_ERROR && x.errbody_full)
		rc = CURLE_OK;
	int r = 0;
	if (x.err)
		r = rune_error(err, 0, "GET %s: %s", url, x.err->msg);
	else if (rc != CURLE_OK)
		r = rune_error(err, 0, "GET %s: %s", url, curl_easy_strerror(rc));
	rune_error_release(&x.err);
	*status = x.status;
	xfer_reset_headers(&x);
	if (r < 0 || *status != 200) {
		free(x.mem);
		return r;
	}
	*body = x.mem ? x.mem : xstrdup("");
	*len = x.mem_len;
	return 0;
}
