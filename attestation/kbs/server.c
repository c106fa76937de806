/* The KBS's HTTP side (libmicrohttpd): /auth, /attest, /resource, and the
 * admin endpoints. Errors are Trustee's: {"type": ".../errors/<Variant>",
 * "detail": "..."}, 404 for a bad path, 401 for a refusal. */
#include <ctype.h>
#include <errno.h>
#include <linux/openat2.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cleanup.h"
#include "encoding.h"
#include "fs.h"
#include "array.h"
#include "attest_ctx.h"
#include "jwe.h"
#include "kbs.h"
#include "log.h"
#include "util.h"

#define BODY_MAX   (1 << 20)
#define ERR_PREFIX "https://github.com/confidential-containers/kbs/errors/"

struct request {
	char *body;
	size_t len;
	bool too_big;
};

struct reply {
	unsigned status;
	char *body; /* JSON */
	char cookie[128];
};

static void reply_json(struct reply *r, unsigned status, json_t *v)
{
	r->status = status;
	r->body = json_dumps(v, JSON_COMPACT);
	json_decref(v);
}

static int reply_error(struct reply *r, unsigned status, const char *variant, const char *detail)
{
	reply_json(r, status, json_pack("{s:s+,s:s}", "type", ERR_PREFIX, variant, "detail", detail));
	log_info("%u %s: %s", status, variant, detail);
	return -1;
}

/* ---- sessions ---- */

static void session_drop(struct kbs *k, size_t i)
{
	json_decref(k->sessions[i].pubkey);
	k->sessions[i] = k->sessions[--k->n_sessions];
}

static void sessions_expire(struct kbs *k)
{
	time_t now = time(NULL);
	for (size_t i = 0; i < k->n_sessions;)
		if (now - k->sessions[i].created >= k->cfg.session_ttl)
			session_drop(k, i);
		else
			i++;
}

static struct kbs_session *session_find(struct kbs *k, const char *id)
{
	sessions_expire(k);
	for (size_t i = 0; id && i < k->n_sessions; i++)
		if (strcmp(k->sessions[i].id, id) == 0)
			return &k->sessions[i];
	return NULL;
}

/* ---- handlers ---- */

static const char *const tees[] = { "sgx",    "tdx",      "snp",    "sev",          "csv",
	                            "cca",    "se",       "tpm",    "az-snp-vtpm",  "az-tdx-vtpm",
	                            "nvidia", "hygondcu", "sample", "sampledevice", "sim" };

static int do_auth(struct kbs *k, const struct request *rq, struct reply *r)
{
	json_error_t je;
	json_t *v = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &je);
	const char *version = json_string_value(json_object_get(v, "version"));
	const char *tee = json_string_value(json_object_get(v, "tee"));
	bool known = false;
	for (size_t i = 0; tee && i < ARRAY_SIZE(tees); i++)
		known |= strcmp(tee, tees[i]) == 0;
	int rc = 0;
	if (!json_is_object(v))
		rc = reply_error(r, 401, "RcarAuthFailed", "the Request is not a JSON object");
	else if (version == NULL || strcmp(version, KBS_VERSION) != 0)
		rc = reply_error(r, 401, "RcarAuthFailed", "protocol version mismatch: this KBS speaks " KBS_VERSION);
	else if (!known)
		rc = reply_error(r, 401, "RcarAuthFailed", "unknown tee");
	json_t *tee_copy = rc == 0 ? json_string(tee) : NULL;
	json_decref(v);
	if (rc < 0)
		return rc;
	struct kbs_session s = { .created = time(NULL) };
	unsigned char raw[32], id[16];
	/* A session id or nonce anyone could guess would let a replay in. */
	if (RAND_bytes(id, sizeof(id)) != 1 || RAND_bytes(raw, sizeof(raw)) != 1)
		return reply_error(r, 500, "RcarAuthFailed", "no random bytes for a session");
	cleanup_free char *hex = rune_hex_encode(id, sizeof(id));
	snprintf(s.id, sizeof(s.id), "%s", hex);
	cleanup_free char *nonce = rune_base64_encode(raw, sizeof(raw));
	snprintf(s.nonce, sizeof(s.nonce), "%s", nonce);
	snprintf(s.tee, sizeof(s.tee), "%s", json_string_value(tee_copy));
	json_decref(tee_copy);
	pthread_mutex_lock(&k->lock);
	sessions_expire(k);
	if (k->n_sessions == KBS_SESSIONS_MAX)
		session_drop(k, 0); /* the oldest-ish; bounded either way */
	k->sessions[k->n_sessions++] = s;
	pthread_mutex_unlock(&k->lock);
	snprintf(r->cookie, sizeof(r->cookie), "kbs-session-id=%s; Path=/kbs; Max-Age=%ld; HttpOnly", s.id,
	         k->cfg.session_ttl);
	/* extra-params offers rune's image binding (Trustee sends ""; its
	 * clients ignore members they do not know). */
	reply_json(r, 200, json_pack("{s:s,s:{s:b}}", "nonce", s.nonce, "extra-params", ATTEST_IMAGE_BINDING, 1));
	log_info("auth: session %s for tee %s", s.id, s.tee);
	return 0;
}

static int do_attest(struct kbs *k, const char *cookie, const struct request *rq, struct reply *r)
{
	json_error_t je;
	char nonce[45], tee[16];
	pthread_mutex_lock(&k->lock);
	struct kbs_session *s = session_find(k, cookie);
	if (s) {
		memcpy(nonce, s->nonce, sizeof(nonce));
		memcpy(tee, s->tee, sizeof(tee));
	}
	pthread_mutex_unlock(&k->lock);
	if (s == NULL)
		return reply_error(r, 401, "RcarAttestFailed", "no session (or it expired): POST /kbs/v0/auth first");
	json_t *v = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(v)) {
		json_decref(v);
		return reply_error(r, 401, "RcarAttestFailed", "the Attestation is not a JSON object");
	}
	struct kbs_claims claims;
	cleanup_error rune_error_t err = NULL;
	if (kbs_verify(k, tee, nonce, v, &claims, &err) < 0) {
		json_decref(v);
		cleanup_free char *detail = xasprintf("%s evidence refused: %s", tee, err->msg);
		return reply_error(r, 401, "AttestationError", detail);
	}
	json_t *pub = json_incref(json_object_get(json_object_get(v, "runtime-data"), "tee-pubkey"));
	json_decref(v);
	char *token = kbs_token_issue(k, &claims, nonce, pub);
	pthread_mutex_lock(&k->lock);
	if ((s = session_find(k, cookie)) != NULL) {
		s->attested = true;
		json_decref(s->pubkey);
		s->pubkey = json_incref(pub);
		s->claims = claims;
	}
	pthread_mutex_unlock(&k->lock);
	json_decref(pub);
	if (token == NULL)
		return reply_error(r, 500, "TokenIssueFailed", "signing the token failed");
	reply_json(r, 200, json_pack("{s:s}", "token", token));
	free(token);
	log_info("attest: %s accepted (measurement %s, init-data %s)", tee,
	         claims.measurement[0] ? claims.measurement : "-", claims.init_data[0] ? claims.init_data : "-");
	return 0;
}

/* The caller's claims and key: a valid bearer token, else an attested session. */
static int authorized(struct kbs *k, const char *bearer, const char *cookie, struct kbs_claims *c, json_t **pub,
                      struct reply *r)
{
	cleanup_error rune_error_t err = NULL;
	if (bearer) {
		if (kbs_token_check(k, bearer, c, pub, &err) == 0)
			return 0;
		return reply_error(r, 401, "TokenVerifierError", err->msg);
	}
	int rc = -1;
	pthread_mutex_lock(&k->lock);
	struct kbs_session *s = session_find(k, cookie);
	if (s && s->attested) {
		*c = s->claims;
		*pub = json_incref(s->pubkey);
		rc = 0;
	}
	pthread_mutex_unlock(&k->lock);
	if (rc < 0)
		return reply_error(r, 401, "TokenNotFound",
		                   "no token and no attested session (or it expired): attest first");
	return 0;
}

/* "a/b/c" with plain segments only: nothing can climb out of the tree. */
static bool plain_path(const char *p, int want)
{
	int segs = 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || n > 128 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!(isalnum((unsigned char) p[i]) || strchr("-_.", p[i])))
				return false;
		segs++;
		p += n;
		if (*p == '/' && *++p == '\0')
			return false;
	}
	return segs == want;
}

static int do_get_resource(struct kbs *k, const char *path, const char *bearer, const char *cookie, struct reply *r)
{
	struct kbs_claims c;
	json_t *pub = NULL;
	cleanup_error rune_error_t err = NULL;
	if (!plain_path(path, 3))
		return reply_error(r, 404, "InvalidRequestPath", "a resource path is <repository>/<type>/<tag>");
	if (authorized(k, bearer, cookie, &c, &pub, r) < 0)
		return -1;
	pthread_mutex_lock(&k->lock);
	int rc = kbs_policy_check(k->policy, path, &c, &err);
	pthread_mutex_unlock(&k->lock);
	if (rc < 0) {
		json_decref(pub);
		return reply_error(r, 401, "PolicyDeny", err->msg);
	}
	cleanup_close int root = open(k->cfg.repository, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int fd =
	    root < 0 ? -1 : rune_openat2(root, path, O_RDONLY | O_CLOEXEC, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
	cleanup_free char *data = NULL;
	size_t len = 0;
	if (fd < 0 || rune_read_fd_all(fd, path, BODY_MAX, &data, &len, &err) < 0) {
		json_decref(pub);
		cleanup_free char *d = xasprintf("resource %s not found in the repository", path);
		return reply_error(r, 404, "ResourceNotFound", d);
	}
	json_t *jwe = rune_jwe_encrypt(pub, data, len, &err);
	OPENSSL_cleanse(data, len);
	json_decref(pub);
	if (jwe == NULL)
		return reply_error(r, 401, "JweError", err->msg);
	reply_json(r, 200, jwe);
	log_info("resource %s released to %s", path, c.tee);
	return 0;
}

static int admin(struct kbs *k, const char *bearer, struct reply *r)
{
	cleanup_error rune_error_t err = NULL;
	if (k->cfg.insecure_admin)
		return 0;
	if (bearer == NULL)
		return reply_error(r, 401, "AdminAuth", "admin API: Authorization: Bearer <admin token> required");
	if (kbs_admin_check(k, bearer, &err) < 0)
		return reply_error(r, 401, "AdminAuth", err->msg);
	return 0;
}

static int do_set_resource(struct kbs *k, const char *path, const struct request *rq, struct reply *r)
{
	cleanup_error rune_error_t err = NULL;
	if (!plain_path(path, 3))
		return reply_error(r, 404, "InvalidRequestPath", "a resource path is <repository>/<type>/<tag>");
	cleanup_free char *file = xasprintf("%s/%s", k->cfg.repository, path);
	cleanup_free char *dir = xstrdup(file);
	*strrchr(dir, '/') = '\0';
	if (rune_mkdir_p(dir, 0700, &err) < 0 || rune_write_file_atomic(file, rq->body, rq->len, 0600, &err) < 0)
		return reply_error(r, 500, "ResourceWrite", err->msg);
	reply_json(r, 200, json_object());
	log_info("resource %s set (%zu bytes)", path, rq->len);
	return 0;
}

static int do_set_policy(struct kbs *k, const struct request *rq, struct reply *r)
{
	json_error_t je;
	cleanup_error rune_error_t err = NULL;
	json_t *v = json_loadb(rq->body, rq->len, 0, &je), *p = NULL;
	const char *b64 = json_string_value(json_object_get(v, "policy"));
	unsigned char *text = NULL;
	size_t n = 0;
	bool ok =
	    b64
	    && (rune_base64url_decode(b64, strlen(b64), &text, &n) || rune_base64_decode(b64, strlen(b64), &text, &n));
	json_decref(v);
	if (!ok)
		return reply_error(r, 400, "PolicyError", "expected {\"policy\": \"<base64 of the policy JSON>\"}");
	if (kbs_policy_load((char *) text, n, "resource policy", &p, &err) < 0) {
		free(text);
		return reply_error(r, 400, "PolicyError", err->msg);
	}
	pthread_mutex_lock(&k->lock);
	json_decref(k->policy);
	free(k->policy_text);
	k->policy = p;
	k->policy_text = (char *) text;
	pthread_mutex_unlock(&k->lock);
	reply_json(r, 200, json_object());
	log_info("resource policy replaced");
	return 0;
}

static void route(struct kbs *k, struct MHD_Connection *conn, const char *url, const char *method,
                  const struct request *rq, struct reply *r)
{
	const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "kbs-session-id");
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *bearer = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
	bool post = strcmp(method, "POST") == 0, get = strcmp(method, "GET") == 0;
	static const char prefix[] = "/kbs/v0/";
	if (rq->too_big) {
		reply_error(r, 413, "PayloadTooLarge", "request body over 1 MiB");
		return;
	}
	if (strncmp(url, prefix, sizeof(prefix) - 1) != 0) {
		reply_error(r, 404, "InvalidRequestPath", "not under /kbs/v0/");
		return;
	}
	const char *p = url + sizeof(prefix) - 1;
	if (post && strcmp(p, "auth") == 0)
		do_auth(k, rq, r);
	else if (post && strcmp(p, "attest") == 0)
		do_attest(k, cookie, rq, r);
	else if (get && strncmp(p, "resource/", 9) == 0)
		do_get_resource(k, p + 9, bearer, cookie, r);
	else if (post && strncmp(p, "resource/", 9) == 0) {
		if (admin(k, bearer, r) == 0)
			do_set_resource(k, p + 9, rq, r);
	} else if (strcmp(p, "resource-policy") == 0 && (post || get)) {
		if (admin(k, bearer, r) == 0 && post)
			do_set_policy(k, rq, r);
		else if (r->body == NULL) {
			pthread_mutex_lock(&k->lock);
			cleanup_free char *b64 = rune_base64url_encode(k->policy_text, strlen(k->policy_text));
			pthread_mutex_unlock(&k->lock);
			reply_json(r, 200, json_pack("{s:s}", "policy", b64));
		}
	} else if (post && strcmp(p, "attestation-policy") == 0)
		reply_error(
		    r, 404, "PluginNotFound",
		    "rune-kbs has no attestation policy (Trustee's are Rego, not supported): its verifiers check "
		    "signatures and bindings; use the resource policy for reference values");
	else
		reply_error(r, 404, "PluginNotFound", "no such endpoint (auth, attest, resource, resource-policy)");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state)
{
	struct kbs *k = cls;
	struct request *rq = *state;
	if (rq == NULL) {
		*state = xcalloc(1, sizeof(*rq));
		return MHD_YES;
	}
	if (*upload_size) {
		if (rq->len + *upload_size > BODY_MAX) {
			rq->too_big = true;
		} else {
			rq->body = xrealloc(rq->body, rq->len + *upload_size + 1);
			memcpy(rq->body + rq->len, upload, *upload_size);
			rq->len += *upload_size;
			rq->body[rq->len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->body == NULL)
		rq->body = xstrdup("");
	struct reply r = { 0 };
	route(k, conn, url, method, rq, &r);
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(r.body), r.body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (r.cookie[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r.cookie);
	enum MHD_Result ret = MHD_queue_response(conn, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state, enum MHD_RequestTerminationCode why)
{
	struct request *rq = *state;
	if (rq) {
		if (rq->body)
			OPENSSL_cleanse(rq->body, rq->len);
		free(rq->body);
		free(rq);
	}
	*state = NULL;
}

static int listen_addr(const char *listen, struct sockaddr_in *sa, rune_error_t *err)
{
	cleanup_free char *host = xstrdup(listen);
	char *colon = strrchr(host, ':');
	unsigned long port = 0;
	if (colon == NULL || !rune_parse_ulong(colon + 1, &port) || port > 65535)
		return rune_error(err, 0, "--listen %s: expected HOST:PORT", listen);
	*colon = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t) port);
	if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &sa->sin_addr) != 1)
		return rune_error(err, 0, "--listen %s: %s is not an IPv4 address", listen, host);
	return 0;
}

int kbs_serve(struct kbs *k, rune_error_t *err)
{
	struct sockaddr_in sa;
	cleanup_free char *cert = NULL, *key = NULL;
	size_t n = 0;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
	if (listen_addr(k->cfg.listen, &sa, err) < 0)
		return -1;
	if (k->cfg.tls_cert) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
			return rune_error(err, 0, "this libmicrohttpd has no TLS");
		if (rune_read_file(k->cfg.tls_cert, 1 << 20, &cert, &n, err) < 0
		    || rune_read_file(k->cfg.tls_key, 1 << 20, &key, &n, err) < 0)
			return rune_error_wrap(err, "TLS");
		flags |= MHD_USE_TLS;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	struct MHD_Daemon *d =
	    k->cfg.tls_cert
	        ? MHD_start_daemon(flags, 0, NULL, NULL, on_request, k, MHD_OPTION_SOCK_ADDR, &sa,
	                           MHD_OPTION_CONNECTION_TIMEOUT, 30U, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                           MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END)
	        : MHD_start_daemon(flags, 0, NULL, NULL, on_request, k, MHD_OPTION_SOCK_ADDR, &sa,
	                           MHD_OPTION_CONNECTION_TIMEOUT, 30U, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                           MHD_OPTION_END);
	if (d == NULL)
		return rune_error(err, errno, "cannot listen on %s", k->cfg.listen);
	log_info("rune-kbs listening on %s%s", k->cfg.listen, k->cfg.tls_cert ? " (TLS)" : "");
	fprintf(stderr, "rune-kbs: listening on %s://%s\n", k->cfg.tls_cert ? "https" : "http", k->cfg.listen);
	int sig = 0;
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
