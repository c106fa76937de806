/* The KBS client: RCAR 0.4.0 over libcurl (../shared/reference/kbs-protocol.md). */
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jose/jose.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attest.h"
#include "attest_ctx.h"
#include "cleanup.h"
#include "encoding.h"
#include "jcs.h"
#include "jwe.h"
#include "log.h"
#include "util.h"

#define PROTOCOL_VERSION  "0.4.0"
#define BODY_MAX          (4 << 20) /* no KBS answer is larger: a resource is JWE'd whole */
#define RESOURCE_DEFAULT  (1 << 20)
#define RESOURCE_ATTEMPTS 3
#define TOKEN_MARGIN      10 /* seconds before exp when a token counts as spent */
#define UNREACHABLE       -2 /* request(): no connection */
#define AUTH_REFUSED      -3 /* auth(): the KBS answered the Request with an error */

struct http {
	long status;
	char *body;
	size_t len;
	bool too_big;
	char cookie[80];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_body(char *buf, size_t size, size_t n, void *data)
{
	struct http *h = data;
	size_t add = size * n;
	if (h->len + add > BODY_MAX) {
		h->too_big = true;
		return 0; /* abort the transfer: every read is bounded */
	}
	h->body = xrealloc(h->body, h->len + add + 1);
	memcpy(h->body + h->len, buf, add);
	h->len += add;
	h->body[h->len] = '\0';
	return add;
}

static size_t on_header(char *buf, size_t size, size_t n, void *data)
{
	struct http *h = data;
	size_t len = size * n;
	static const char name[] = "set-cookie:";
	if (len > sizeof(name) && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
		const char *v = buf + sizeof(name) - 1;
		while (*v == ' ')
			v++;
		if (strncmp(v, "kbs-session-id=", 15) == 0) {
			size_t m = strcspn(v, ";\r\n");
			if (m < sizeof(h->cookie))
				snprintf(h->cookie, sizeof(h->cookie), "%.*s", (int) m, v);
		}
	}
	return len;
}

static bool unreachable(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT
	       || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_GOT_NOTHING;
}

/* One request. `step` names it in errors ("auth"); a failure to connect is
 * UNREACHABLE so the handshake can retry it. */
static int request(struct attest_ctx *c, const char *step, const char *method, const char *path, const char *body,
                   struct http *h, rune_error_t *err)
{
	pthread_once(&curl_once, curl_init);
	cleanup_free char *url = xasprintf("%s/kbs/v0/%s", c->url, path);
	CURL *e = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	if (e == NULL)
		rune_oom();
	memset(h, 0, sizeof(*h));
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, c->timeout);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
	if (c->cert_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cert_file);
	if (c->cookie[0])
		curl_easy_setopt(e, CURLOPT_COOKIE, c->cookie);
	if (c->token && strcmp(step, "resource") == 0) {
		cleanup_free char *auth = xasprintf("Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (body) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	CURLcode rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &h->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(e);
	if (h->too_big) {
		free(h->body);
		h->body = NULL;
		return rune_error(err, 0, "%s: %s %s: the answer exceeds %d bytes", step, method, url, BODY_MAX);
	}
	if (rc != CURLE_OK) {
		free(h->body);
		h->body = NULL;
		rune_error(err, 0, "%s: %s %s: %s", step, method, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		return unreachable(rc) ? UNREACHABLE : -1;
	}
	if (h->body == NULL)
		h->body = xstrdup("");
	return 0;
}

/* The KBS's error body {"type": ".../errors/<Variant>", "detail": "..."},
 * named in the error with the step, the URL and the status. */
static int kbs_refused(struct attest_ctx *c, const char *step, const char *method, const char *path,
                       const struct http *h, rune_error_t *err)
{
	json_error_t je;
	json_t *v = json_loadb(h->body, h->len, 0, &je);
	const char *type = json_string_value(json_object_get(v, "type"));
	const char *detail = json_string_value(json_object_get(v, "detail"));
	const char *variant = type && strrchr(type, '/') ? strrchr(type, '/') + 1 : type;
	snprintf(c->last_error, sizeof(c->last_error), "%s", variant ? variant : "");
	if (variant)
		rune_error(err, 0, "%s: %s %s/kbs/v0/%s: HTTP %ld: %s%s%s", step, method, c->url, path, h->status,
		           variant, detail ? ": " : "", detail ? detail : "");
	else
		rune_error(err, 0, "%s: %s %s/kbs/v0/%s: HTTP %ld%s%.*s", step, method, c->url, path, h->status,
		           h->len ? ": " : "", (int) (h->len > 200 ? 200 : h->len), h->body);
	json_decref(v);
	if (h->status == 401 || h->status == 403)
		rune_error_set_exit(err, ATTEST_EXIT_DENIED);
	return -1;
}

static json_t *parse_answer(const char *step, const struct http *h, rune_error_t *err)
{
	json_error_t je;
	json_t *v = json_loadb(h->body, h->len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(v)) {
		json_decref(v);
		rune_error(err, 0, "%s: the KBS answered with %s: %s", step,
		           v ? "JSON that is not an object" : "bad JSON", v ? "" : je.text);
		return NULL;
	}
	return v;
}

static const EVP_MD *hash_named(const char *name)
{
	if (name == NULL || strcmp(name, "sha384") == 0)
		return EVP_sha384();
	if (strcmp(name, "sha256") == 0)
		return EVP_sha256();
	if (strcmp(name, "sha512") == 0)
		return EVP_sha512();
	return NULL;
}

/* The challenge's selected hash: extra-params is "" or an object. */
static int challenge_hash(json_t *ch, const EVP_MD **md, rune_error_t *err)
{
	json_t *extra = json_object_get(ch, "extra-params"), *parsed = NULL;
	json_error_t je;
	if (json_is_string(extra) && json_string_length(extra) > 0)
		extra = parsed = json_loads(json_string_value(extra), 0, &je);
	json_t *sel = json_object_get(extra, "selected-hash-algorithm");
	*md = sel ? hash_named(json_string_value(sel)) : EVP_sha384();
	int rc =
	    *md ? 0
	        : rune_error(err, 0, "auth: the challenge selects hash algorithm %s, which this agent does not offer",
	                     json_is_string(sel) ? json_string_value(sel) : "(not a string)");
	json_decref(parsed);
	return rc;
}

int attest_kbs_challenge(const char *body, size_t len, char **nonce, const EVP_MD **md, bool *binds, rune_error_t *err)
{
	struct http h = { .body = (char *) body, .len = len };
	json_t *ch = parse_answer("auth", &h, err);
	if (ch == NULL)
		return -1;
	const char *n = json_string_value(json_object_get(ch, "nonce"));
	if (n == NULL || strlen(n) > 1024 || challenge_hash(ch, md, err) < 0) {
		if (n == NULL || strlen(n) > 1024)
			rune_error(err, 0, "auth: the challenge has no nonce (or one over 1 KiB)");
		json_decref(ch);
		return -1;
	}
	*nonce = xstrdup(n);
	*binds = json_is_object(json_object_get(ch, "extra-params"))
	         && json_is_true(json_object_get(json_object_get(ch, "extra-params"), ATTEST_IMAGE_BINDING));
	json_decref(ch);
	return 0;
}

int attest_report_data(const json_t *pubkey, const char *nonce, const char *additional, const EVP_MD *md,
                       unsigned char rd[64], size_t *rd_len, rune_error_t *err)
{
	json_t *bind = json_pack("{s:s,s:s,s:O}", "additional-evidence", additional ? additional : "", "nonce", nonce,
	                         "tee-pubkey", pubkey);
	cleanup_free char *canon = NULL;
	size_t n = 0;
	unsigned int dlen = 0;
	int rc = attest_jcs(bind, &canon, &n, err);
	json_decref(bind);
	if (rc < 0)
		return -1;
	memset(rd, 0, 64);
	if (EVP_Digest(canon, n, rd, &dlen, md, NULL) != 1)
		return rune_error(err, 0, "report data: digest failed");
	*rd_len = dlen;
	return 0;
}

/* exp of a JWT, unverified: only to know when to stop reusing it. */
static long token_exp(const char *jwt)
{
	const char *a = strchr(jwt, '.'), *b = a ? strchr(a + 1, '.') : NULL;
	unsigned char *payload = NULL;
	size_t n = 0;
	long exp = 0;
	if (b && rune_base64url_decode(a + 1, (size_t) (b - a - 1), &payload, &n)) {
		json_error_t je;
		json_t *v = json_loadb((const char *) payload, n, 0, &je);
		exp = (long) json_integer_value(json_object_get(v, "exp"));
		json_decref(v);
	}
	free(payload);
	return exp;
}

static int auth(struct attest_ctx *c, const char *tee, char **nonce, const EVP_MD **md, rune_error_t *err)
{
	struct http h;
	json_t *req = json_pack("{s:s,s:s,s:{s:[s,s,s]}}", "version", PROTOCOL_VERSION, "tee", tee, "extra-params",
	                        "supported-hash-algorithms", "sha256", "sha384", "sha512");
	cleanup_free char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	c->cookie[0] = '\0';
	int rc = request(c, "auth", "POST", "auth", body, &h, err);
	if (rc < 0)
		return rc;
	cleanup_free char *hb __attribute__((unused)) = h.body; /* frees the body on every return */
	if (h.status != 200) {
		kbs_refused(c, "auth", "POST", "auth", &h, err);
		return AUTH_REFUSED;
	}
	if (attest_kbs_challenge(h.body, h.len, nonce, md, &c->kbs_binds, err) < 0)
		return -1;
	if (h.cookie[0] == '\0')
		return rune_error(err, 0, "auth: the KBS set no kbs-session-id cookie");
	memcpy(c->cookie, h.cookie, sizeof(c->cookie));
	return 0;
}

static json_t *attestation_body(struct attest_ctx *c, const char *nonce, json_t *primary, const char *additional)
{
	json_t *a =
	    json_pack("{s:{s:s,s:O},s:{s:o,s:s}}", "runtime-data", "nonce", nonce, "tee-pubkey", c->pub, "tee-evidence",
	              "primary_evidence", primary, "additional_evidence", additional ? additional : "");
	if (c->initdata)
		json_object_set_new(a, "init-data",
		                    json_pack("{s:s,s:s%}", "format", "toml", "body", c->initdata, c->initdata_len));
	return a;
}

/* auth + attest once, as the provider's TEE or (sim towards a KBS that knows
 * no sim TEE) as sample. */
static int handshake_once(struct attest_ctx *c, const struct evidence_provider *p, rune_error_t *err)
{
	cleanup_free char *nonce = NULL;
	const EVP_MD *md = NULL;
	unsigned char rd[64];
	size_t rd_len = 0;
	json_t *primary = NULL;
	int rc = auth(c, p->kbs_tee, &nonce, &md, err);
	if (rc < 0)
		return rc;
	/* Only a KBS that offered it reads a binding: Trustee's verifiers take
	 * additional evidence for composite devices. */
	const char *additional = c->kbs_binds ? c->additional : NULL;
	if (c->additional && !c->kbs_binds)
		log_warning("the KBS does not offer image binding: keys are released on the enclave's evidence alone");
	if (attest_report_data(c->pub, nonce, additional, md, rd, &rd_len, err) < 0
	    || p->evidence(c->root, rd, rd_len, &primary, err) < 0)
		return -1;
	json_t *a = attestation_body(c, nonce, primary, additional);
	cleanup_free char *body = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	struct http h;
	rc = request(c, "attest", "POST", "attest", body, &h, err);
	if (rc < 0)
		return rc;
	cleanup_free char *hb __attribute__((unused)) = h.body; /* frees the body on every return */
	if (h.status != 200)
		return kbs_refused(c, "attest", "POST", "attest", &h, err);
	char *tok = NULL;
	long exp = 0;
	if (attest_kbs_token(h.body, h.len, &tok, &exp, err) < 0)
		return -1;
	attest_token_release(c);
	c->token = tok;
	c->token_exp = exp;
	return 0;
}

int attest_kbs_token(const char *body, size_t len, char **token, long *exp, rune_error_t *err)
{
	struct http h = { .body = (char *) body, .len = len };
	json_t *v = parse_answer("attest", &h, err);
	const char *tok = json_string_value(json_object_get(v, "token"));
	if (v && (tok == NULL || strlen(tok) > 64 * 1024)) {
		json_decref(v);
		return rune_error(err, 0, "attest: the KBS's answer has no token");
	}
	if (v == NULL)
		return -1;
	*token = xstrdup(tok);
	*exp = token_exp(tok);
	json_decref(v);
	return 0;
}

void attest_token_release(struct attest_ctx *c)
{
	if (c->token) {
		OPENSSL_cleanse(c->token, strlen(c->token));
		free(c->token);
	}
	c->token = NULL;
	c->token_exp = 0;
}

/* The handshake, retried while the KBS cannot be reached. */
static int handshake(struct attest_ctx *c, rune_error_t *err)
{
	for (int attempt = 1;; attempt++) {
		rune_error_release(err);
		int rc = handshake_once(c, c->provider, err);
		if (rc == 0)
			return 0;
		/* A stock Trustee knows no sim TEE: towards it the simulation
		 * attests as Trustee's own insecure development TEE. */
		if (rc == AUTH_REFUSED && c->provider == &attest_provider_sim) {
			log_warning("the KBS refused the sim TEE (%s); attesting as \"sample\", Trustee's insecure "
			            "development TEE",
			            (*err)->msg);
			c->provider = &attest_provider_sample;
			attempt--;
			continue;
		}
		if (rc == UNREACHABLE && attempt < c->connect_attempts) {
			sleep(1);
			continue;
		}
		if (rc == UNREACHABLE)
			return rune_error_wrap(err, "the KBS is unreachable after %d attempts", attempt);
		return -1;
	}
}

static bool token_valid(const struct attest_ctx *c)
{
	return c->token && (c->token_exp == 0 || time(NULL) + TOKEN_MARGIN < c->token_exp);
}

int attest_token(struct attest_ctx *c, char **token, rune_error_t *err)
{
	if (!token_valid(c) && handshake(c, err) < 0)
		return -1;
	*token = xstrdup(c->token);
	return 0;
}

/* "repo/type/tag", "kbs:///repo/type/tag", "kbs+plugin://host/a/b" → the
 * path after /kbs/v0/. Segments must be plain names: nothing that could
 * climb out of the resource tree on the server. */
static int resource_path(const char *in, char **out, rune_error_t *err)
{
	const char *plugin = "resource", *p = in;
	size_t plugin_len = strlen(plugin);
	if (strncmp(in, "kbs://", 6) == 0 || strncmp(in, "kbs+", 4) == 0) {
		const char *sep = strstr(in, "://");
		if (sep == NULL)
			return rune_error(err, 0, "resource URI %s: no ://", in);
		if (in[3] == '+') {
			plugin = in + 4;
			plugin_len = (size_t) (sep - plugin);
		}
		p = strchr(sep + 3, '/'); /* the host part is ignored */
		if (p == NULL)
			return rune_error(err, 0, "resource URI %s: no path", in);
	}
	while (*p == '/')
		p++;
	int segs = 0;
	for (const char *s = p; *s;) {
		size_t n = strcspn(s, "/");
		bool ok = n > 0 && !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
		for (size_t i = 0; i < n && ok; i++)
			ok = isalnum((unsigned char) s[i]) || strchr("-_.", s[i]);
		if (!ok)
			return rune_error(err, 0, "resource %s: segment \"%.*s\" is not a plain name ([A-Za-z0-9._-])",
			                  in, (int) n, s);
		segs++;
		s += n;
		if (*s == '/')
			s++;
	}
	if (plugin_len == 0 || (strncmp(plugin, "resource", plugin_len) == 0 && segs != 3))
		return rune_error(err, 0, "resource %s: expected repository/type/tag", in);
	*out = xasprintf("%.*s/%s", (int) plugin_len, plugin, p);
	return 0;
}

static int fetch(struct attest_ctx *c, const char *path, size_t max, unsigned char **data, size_t *len,
                 rune_error_t *err, long *status)
{
	struct http h;
	*status = 0;
	if (request(c, "resource", "GET", path, NULL, &h, err) < 0)
		return -1;
	cleanup_free char *hb __attribute__((unused)) = h.body; /* frees the body on every return */
	*status = h.status;
	if (h.status != 200)
		return kbs_refused(c, "resource", "GET", path, &h, err);
	json_t *jwe = parse_answer("resource", &h, err);
	if (jwe == NULL)
		return rune_error_wrap(err, "GET %s/kbs/v0/%s", c->url, path);
	const char *why = NULL;
	*data = rune_jwe_decrypt(jwe, c->key, max, len, &why);
	json_decref(jwe);
	if (*data == NULL)
		return rune_error(err, 0, "resource: GET %s/kbs/v0/%s: the JWE does not open with this agent's key: %s",
		                  c->url, path, why);
	return 0;
}

int attest_get_resource(struct attest_ctx *c, const char *in, size_t max, unsigned char **data, size_t *len,
                        rune_error_t *err)
{
	cleanup_free char *path = NULL;
	if (resource_path(in, &path, err) < 0)
		return -1;
	if (max == 0)
		max = RESOURCE_DEFAULT;
	for (int attempt = 1; attempt <= RESOURCE_ATTEMPTS; attempt++) {
		long status = 0;
		if (!token_valid(c) && handshake(c, err) < 0)
			return -1;
		rune_error_release(err);
		if (fetch(c, path, max, data, len, err, &status) == 0)
			return 0;
		/* 401: the session or token expired, or the policy said no. A
		 * fresh handshake cures the first; a denial stands. */
		if (status != 401 || strcmp(c->last_error, "PolicyDeny") == 0)
			return -1;
		attest_token_release(c);
		c->cookie[0] = '\0';
	}
	return rune_error_wrap(err, "refused after %d attestations", RESOURCE_ATTEMPTS);
}

int attest_bind_image(struct attest_ctx *c, const char *reference, const char *manifest_digest, rune_error_t *err)
{
	json_t *claim = json_pack("{s:{s:s,s:s}}", "image", "reference", reference, "manifest_digest", manifest_digest);
	char *text = json_dumps(claim, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(claim);
	if (text == NULL)
		return rune_error(err, 0, "image binding: not JSON");
	free(c->additional);
	c->additional = text;
	/* A KBS that did not offer binding keeps the session it has. */
	if (c->kbs_binds) {
		attest_token_release(c);
		c->cookie[0] = '\0';
	}
	return 0;
}

void attest_secret_free(unsigned char *data, size_t len)
{
	rune_jwe_free(data, len);
}
