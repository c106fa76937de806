/* containers-policy.json: parsing (strict, every error naming the JSON path),
 * scope lookup and signed-identity matching, with containers/image's
 * semantics. Evaluation against signatures is trust.c's. */
#include "policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "encoding.h"
#include "gpg.h"
#include "json.h"
#include "sigstore.h"
#include "util.h"

#define POLICY_MAX (4 << 20) /* bytes of policy.json */
#define KEY_MAX    (1 << 20) /* bytes of one key, keyring or CA bundle */

struct parse {
	const struct image_trust *t;
	const char *source;
	rune_error_t *err;
};

static int fail(struct parse *p, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct parse *p, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cleanup_free char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	rune_error(p->err, 0, "policy %s: %s: %s", p->source, where, msg);
	return rune_error_set_status(p->err, EINVAL);
}

/* A JSON-path step for a member: .name, or ["name"] when it is not an identifier. */
static char *path_member(const char *where, const char *name)
{
	bool plain = *name != '\0' && !isdigit((unsigned char) *name);
	for (const char *c = name; *c && plain; c++)
		plain = isalnum((unsigned char) *c) || *c == '_';
	return plain ? xasprintf("%s.%s", where, name) : xasprintf("%s[\"%s\"]", where, name);
}

static int get_string(struct parse *p, yajl_val v, const char *where, char **out)
{
	if (!YAJL_IS_STRING(v))
		return fail(p, where, "%s", "want a string");
	*out = xstrdup(v->u.string);
	return 0;
}

static int get_nonempty(struct parse *p, yajl_val v, const char *where, char **out)
{
	if (get_string(p, v, where, out) < 0)
		return -1;
	if (**out == '\0')
		return fail(p, where, "%s", "must not be empty");
	return 0;
}

/* ---- key material ---- */

static int read_blob(struct parse *p, const char *path, const char *where, struct trust_blob *b)
{
	rune_error_t *err = p->err;
	char *data = NULL;
	size_t len = 0;
	int rc = p->t && p->t->read_file ? p->t->read_file(path, KEY_MAX, &data, &len, p->t->read_file_arg, err)
	                                 : rune_read_file(path, KEY_MAX, &data, &len, err);
	if (rc < 0)
		return rune_error_wrap(err, "policy %s: %s", p->source, where);
	b->data = (unsigned char *) data;
	b->len = len;
	return 0;
}

/* A …Path field: the file's content. */
static int blob_from_path(struct parse *p, yajl_val v, const char *where, const char *field, struct trust_blob *b)
{
	cleanup_free char *path = NULL;
	if (get_nonempty(p, v, where, &path) < 0)
		return -1;
	b->name = xasprintf("%s %s", field, path);
	return read_blob(p, path, where, b);
}

/* A …Data field: base64, as Go's JSON carries []byte. */
static int blob_from_data(struct parse *p, yajl_val v, const char *where, const char *name, struct trust_blob *b)
{
	if (!YAJL_IS_STRING(v))
		return fail(p, where, "%s", "want a base64 string");
	if (!rune_base64_decode(v->u.string, strlen(v->u.string), &b->data, &b->len))
		return fail(p, where, "%s", "not valid base64");
	if (b->len == 0)
		return fail(p, where, "%s", "empty");
	b->name = xstrdup(name);
	return 0;
}

static void blob_release(struct trust_blob *b)
{
	if (b == NULL)
		return;
	free(b->name);
	free(b->data);
	memset(b, 0, sizeof(*b));
}

enum key_kind { KEY_GPG, KEY_SIGSTORE, KEY_REKOR, KEY_CERTS };

static int check_blob(struct parse *p, const struct trust_blob *b, const char *where, enum key_kind kind)
{
	int rc;
	switch (kind) {
	case KEY_GPG:
		rc = image_gpg_check_key(b->data, b->len, p->err);
		break;
	case KEY_SIGSTORE:
	case KEY_REKOR:
		rc = image_sigstore_check_public_key(b->data, b->len, kind == KEY_REKOR, p->err);
		break;
	default:
		rc = image_sigstore_check_certificates(b->data, b->len, p->err);
	}
	return rc < 0 ? rune_error_wrap(p->err, "policy %s: %s (%s)", p->source, where, b->name) : 0;
}

/* One of path / paths / data / datas into a list of blobs, each checked. */
static int read_keys(struct parse *p, const char *where, const char *base, yajl_val path, yajl_val paths, yajl_val data,
                     yajl_val datas, enum key_kind kind, struct trust_blob **out, size_t *n)
{
	cleanup_free char *w = NULL;
	yajl_val list = paths ? paths : datas;
	if (path || data) {
		*out = xcalloc(1, sizeof(**out));
		*n = 1;
		cleanup_free char *field = xasprintf("%s%s", base, path ? "Path" : "Data");
		w = path_member(where, field);
		if ((path ? blob_from_path(p, path, w, field, *out) : blob_from_data(p, data, w, field, *out)) < 0)
			return -1;
		return check_blob(p, *out, w, kind);
	}
	cleanup_free char *field = xasprintf("%s%s", base, paths ? "Paths" : "Datas");
	w = path_member(where, field);
	if (!YAJL_IS_ARRAY(list))
		return fail(p, w, "%s", "want an array");
	if (list->u.array.len == 0)
		return fail(p, w, "%s", "contains no entries");
	*out = xcalloc(list->u.array.len, sizeof(**out));
	for (size_t i = 0; i < list->u.array.len; i++) {
		cleanup_free char *wi = xasprintf("%s[%zu]", w, i);
		cleanup_free char *name = xasprintf("%s[%zu]", field, i);
		yajl_val e = list->u.array.values[i];
		int rc = paths ? blob_from_path(p, e, wi, base[0] == 'r' ? "rekorPublicKeyPath" : "keyPath", &(*out)[i])
		               : blob_from_data(p, e, wi, name, &(*out)[i]);
		(*n)++;
		if (rc < 0 || check_blob(p, &(*out)[i], wi, kind) < 0)
			return -1;
	}
	return 0;
}

/* ---- signedIdentity ---- */

static bool valid_host(const char *h, bool port_ok)
{
	if (*h == '\0' || *h == '.' || *h == '-')
		return false;
	for (const char *c = h; *c; c++) {
		if (*c == ':' && port_ok) {
			if (c[1] == '\0' || strspn(c + 1, "0123456789") != strlen(c + 1))
				return false;
			return true;
		}
		if (!(isalnum((unsigned char) *c) || *c == '.' || *c == '-'))
			return false;
		if (*c == '.' && (c[1] == '.' || c[1] == '\0'))
			return false;
	}
	return true;
}

/* A remapIdentity prefix: host[:port], or a repository name starting with a host. */
static bool valid_remap_prefix(const char *s)
{
	if (strchr(s, '/') == NULL)
		return valid_host(s, true);
	struct image_ref r;
	rune_error_t ignored = NULL;
	if (image_ref_parse_named(s, &r, &ignored) < 0) {
		rune_error_release(&ignored);
		return false;
	}
	cleanup_free char *name = image_ref_repo(&r);
	/* Canonical, except that a docker.io namespace ("docker.io/library") is one too. */
	bool ok = r.tag == NULL && r.digest == NULL && (strcmp(name, s) == 0 || strcmp(r.registry, "docker.io") == 0);
	image_ref_release(&r);
	return ok;
}

static int parse_identity(struct parse *p, yajl_val v, const char *where, struct signed_identity *id)
{
	yajl_val type = NULL, ref = NULL, repo = NULL, prefix = NULL, signed_prefix = NULL;
	const struct rune_json_field fields[] = {
		{ "type", &type },     { "dockerReference", &ref },        { "dockerRepository", &repo },
		{ "prefix", &prefix }, { "signedPrefix", &signed_prefix },
	};
	static const struct {
		const char *name;
		enum identity_type type;
	} types[] = {
		{ "matchExact", ID_MATCH_EXACT },           { "matchRepoDigestOrExact", ID_MATCH_REPO_DIGEST_OR_EXACT },
		{ "matchRepository", ID_MATCH_REPOSITORY }, { "exactReference", ID_EXACT_REFERENCE },
		{ "exactRepository", ID_EXACT_REPOSITORY }, { "remapIdentity", ID_REMAP_IDENTITY }
	};
	cleanup_free char *wt = xasprintf("%s.type", where);
	cleanup_free char *t = NULL;
	if (rune_json_object_fields(v, where, fields, ARRAY_SIZE(fields), p->err) < 0)
		return rune_error_wrap(p->err, "policy %s", p->source);
	if (type == NULL)
		return fail(p, wt, "%s", "missing");
	if (get_string(p, type, wt, &t) < 0)
		return -1;
	size_t i = 0;
	while (i < ARRAY_SIZE(types) && strcmp(types[i].name, t) != 0)
		i++;
	if (i == ARRAY_SIZE(types))
		return fail(p, wt, "unknown signedIdentity type \"%s\"", t);
	id->type = types[i].type;
	/* Each type takes exactly its own fields. */
	bool want_ref = id->type == ID_EXACT_REFERENCE, want_repo = id->type == ID_EXACT_REPOSITORY,
	     want_remap = id->type == ID_REMAP_IDENTITY;
	const struct {
		yajl_val v;
		bool wanted;
		const char *name;
	} extra[] = { { ref, want_ref, "dockerReference" },
		      { repo, want_repo, "dockerRepository" },
		      { prefix, want_remap, "prefix" },
		      { signed_prefix, want_remap, "signedPrefix" } };
	for (size_t k = 0; k < ARRAY_SIZE(extra); k++) {
		cleanup_free char *wk = xasprintf("%s.%s", where, extra[k].name);
		if (extra[k].v && !extra[k].wanted)
			return fail(p, wk, "not a field of signedIdentity type \"%s\"", t);
		if (!extra[k].v && extra[k].wanted)
			return fail(p, wk, "missing (signedIdentity type \"%s\" needs it)", t);
	}
	if (want_ref || want_repo) {
		cleanup_free char *wr = xasprintf("%s.%s", where, want_ref ? "dockerReference" : "dockerRepository");
		if (get_nonempty(p, want_ref ? ref : repo, wr, &id->reference) < 0)
			return -1;
		struct image_ref r;
		if (image_ref_parse_named(id->reference, &r, p->err) < 0)
			return rune_error_wrap(p->err, "policy %s: %s", p->source, wr);
		bool name_only = r.tag == NULL && r.digest == NULL;
		image_ref_release(&r);
		if (want_ref && name_only)
			return fail(p, wr, "\"%s\" has neither a tag nor a digest", id->reference);
	}
	if (want_remap) {
		cleanup_free char *wp = xasprintf("%s.prefix", where);
		cleanup_free char *ws = xasprintf("%s.signedPrefix", where);
		if (get_nonempty(p, prefix, wp, &id->prefix) < 0
		    || get_nonempty(p, signed_prefix, ws, &id->signed_prefix) < 0)
			return -1;
		if (!valid_remap_prefix(id->prefix))
			return fail(p, wp, "\"%s\" is neither host[:port] nor a repository", id->prefix);
		if (!valid_remap_prefix(id->signed_prefix))
			return fail(p, ws, "\"%s\" is neither host[:port] nor a repository", id->signed_prefix);
	}
	return 0;
}

/* ---- requirements ---- */

/* signedIdentity of signedBy and sigstoreSigned; absent, matchRepoDigestOrExact. */
static int parse_signed_identity(struct parse *p, yajl_val identity, const char *where, struct policy_req *r)
{
	if (identity == NULL) {
		r->identity.type = ID_MATCH_REPO_DIGEST_OR_EXACT;
		return 0;
	}
	cleanup_free char *wi = xasprintf("%s.signedIdentity", where);
	return parse_identity(p, identity, wi, &r->identity);
}

static int parse_signed_by(struct parse *p, yajl_val v, const char *where, struct policy_req *r)
{
	yajl_val type, key_type, path, paths, data, identity;
	const struct rune_json_field fields[] = { { "type", &type },    { "keyType", &key_type },
		                                  { "keyPath", &path }, { "keyPaths", &paths },
		                                  { "keyData", &data }, { "signedIdentity", &identity } };
	if (rune_json_object_fields(v, where, fields, ARRAY_SIZE(fields), p->err) < 0)
		return rune_error_wrap(p->err, "policy %s", p->source);
	cleanup_free char *wk = xasprintf("%s.keyType", where);
	cleanup_free char *kt = NULL;
	if (key_type == NULL)
		return fail(p, wk, "%s", "missing");
	if (get_string(p, key_type, wk, &kt) < 0)
		return -1;
	if (strcmp(kt, "GPGKeys") != 0 && strcmp(kt, "signedByGPGKeys") != 0) {
		if (strcmp(kt, "X509Certificates") == 0 || strcmp(kt, "signedByX509CAs") == 0)
			return fail(p, wk, "keyType \"%s\" is not implemented (nor in containers/image)", kt);
		return fail(p, wk, "unknown keyType \"%s\"", kt);
	}
	if (!!path + !!paths + !!data != 1)
		return fail(p, where, "%s", "exactly one of keyPath, keyPaths and keyData must be specified");
	if (read_keys(p, where, "key", path, paths, data, NULL, KEY_GPG, &r->keys, &r->n_keys) < 0)
		return -1;
	return parse_signed_identity(p, identity, where, r);
}

static int parse_ca(struct parse *p, yajl_val path, yajl_val data, const char *where, const char *base,
                    struct trust_blob **out, bool required)
{
	if (path && data) {
		cleanup_free char *msg = xasprintf("%sPath and %sData cannot be used together", base, base);
		return fail(p, where, "%s", msg);
	}
	if (!path && !data) {
		if (!required)
			return 0;
		cleanup_free char *msg = xasprintf("one of %sPath and %sData must be specified", base, base);
		return fail(p, where, "%s", msg);
	}
	size_t n = 0;
	return read_keys(p, where, base, path, NULL, data, NULL, KEY_CERTS, out, &n);
}

static int parse_fulcio(struct parse *p, yajl_val v, const char *where, struct policy_req *r)
{
	yajl_val ca_path, ca_data, issuer, email;
	const struct rune_json_field fields[] = {
		{ "caPath", &ca_path }, { "caData", &ca_data }, { "oidcIssuer", &issuer }, { "subjectEmail", &email }
	};
	if (rune_json_object_fields(v, where, fields, ARRAY_SIZE(fields), p->err) < 0)
		return rune_error_wrap(p->err, "policy %s", p->source);
	cleanup_free char *wi = xasprintf("%s.oidcIssuer", where);
	cleanup_free char *we = xasprintf("%s.subjectEmail", where);
	if (!issuer)
		return fail(p, wi, "%s", "missing");
	if (!email)
		return fail(p, we, "%s", "missing");
	if (get_nonempty(p, issuer, wi, &r->oidc_issuer) < 0 || get_nonempty(p, email, we, &r->subject_email) < 0)
		return -1;
	r->fulcio = true;
	return parse_ca(p, ca_path, ca_data, where, "ca", &r->ca, true);
}

static int parse_pki(struct parse *p, yajl_val v, const char *where, struct policy_req *r)
{
	yajl_val roots_path, roots_data, inter_path, inter_data, email, host;
	const struct rune_json_field fields[] = { { "caRootsPath", &roots_path },
		                                  { "caRootsData", &roots_data },
		                                  { "caIntermediatesPath", &inter_path },
		                                  { "caIntermediatesData", &inter_data },
		                                  { "subjectEmail", &email },
		                                  { "subjectHostname", &host } };
	if (rune_json_object_fields(v, where, fields, ARRAY_SIZE(fields), p->err) < 0)
		return rune_error_wrap(p->err, "policy %s", p->source);
	if (!email && !host)
		return fail(p, where, "%s", "at least one of subjectEmail and subjectHostname must be specified");
	cleanup_free char *we = xasprintf("%s.subjectEmail", where);
	cleanup_free char *wh = xasprintf("%s.subjectHostname", where);
	if ((email && get_nonempty(p, email, we, &r->subject_email) < 0)
	    || (host && get_nonempty(p, host, wh, &r->subject_hostname) < 0))
		return -1;
	r->pki = true;
	if (parse_ca(p, roots_path, roots_data, where, "caRoots", &r->ca, true) < 0)
		return -1;
	return parse_ca(p, inter_path, inter_data, where, "caIntermediates", &r->intermediates, false);
}

static int parse_sigstore_signed(struct parse *p, yajl_val v, const char *where, struct policy_req *r)
{
	yajl_val type, path, paths, data, datas, fulcio, pki, rpath, rpaths, rdata, rdatas, identity;
	const struct rune_json_field fields[] = {
		{ "type", &type },
		{ "keyPath", &path },
		{ "keyPaths", &paths },
		{ "keyData", &data },
		{ "keyDatas", &datas },
		{ "fulcio", &fulcio },
		{ "pki", &pki },
		{ "rekorPublicKeyPath", &rpath },
		{ "rekorPublicKeyPaths", &rpaths },
		{ "rekorPublicKeyData", &rdata },
		{ "rekorPublicKeyDatas", &rdatas },
		{ "signedIdentity", &identity },
	};
	if (rune_json_object_fields(v, where, fields, ARRAY_SIZE(fields), p->err) < 0)
		return rune_error_wrap(p->err, "policy %s", p->source);
	if (!!path + !!paths + !!data + !!datas + !!fulcio + !!pki != 1)
		return fail(p, where, "%s",
		            "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio and pki must be specified");
	int rekor = !!rpath + !!rpaths + !!rdata + !!rdatas;
	if (rekor > 1)
		return fail(p, where, "%s",
		            "at most one of rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData and "
		            "rekorPublicKeyDatas can be used");
	if (fulcio && rekor == 0)
		return fail(p, where, "%s",
		            "fulcio needs a Rekor public key (rekorPublicKeyPath or rekorPublicKeyData)");
	if (fulcio) {
		cleanup_free char *wf = xasprintf("%s.fulcio", where);
		if (parse_fulcio(p, fulcio, wf, r) < 0)
			return -1;
	} else if (pki) {
		cleanup_free char *wp = xasprintf("%s.pki", where);
		if (parse_pki(p, pki, wp, r) < 0)
			return -1;
	} else if (read_keys(p, where, "key", path, paths, data, datas, KEY_SIGSTORE, &r->keys, &r->n_keys) < 0) {
		return -1;
	}
	if (rekor
	    && read_keys(p, where, "rekorPublicKey", rpath, rpaths, rdata, rdatas, KEY_REKOR, &r->rekor_keys,
	                 &r->n_rekor_keys)
	           < 0)
		return -1;
	return parse_signed_identity(p, identity, where, r);
}

static int parse_req(struct parse *p, yajl_val v, const char *where, struct policy_req *r)
{
	r->where = xstrdup(where);
	if (!YAJL_IS_OBJECT(v))
		return fail(p, where, "%s", "want an object");
	yajl_val type = rune_json_get(v, "type");
	cleanup_free char *wt = xasprintf("%s.type", where);
	cleanup_free char *t = NULL;
	if (type == NULL)
		return fail(p, wt, "%s", "missing");
	if (get_string(p, type, wt, &t) < 0)
		return -1;
	if (strcmp(t, "insecureAcceptAnything") == 0 || strcmp(t, "reject") == 0) {
		r->type = t[0] == 'i' ? REQ_INSECURE_ACCEPT_ANYTHING : REQ_REJECT;
		const struct rune_json_field fields[] = { { "type", &type } };
		if (rune_json_object_fields(v, where, fields, ARRAY_SIZE(fields), p->err) < 0)
			return rune_error_wrap(p->err, "policy %s", p->source);
		return 0;
	}
	if (strcmp(t, "signedBy") == 0) {
		r->type = REQ_SIGNED_BY;
		return parse_signed_by(p, v, where, r);
	}
	if (strcmp(t, "sigstoreSigned") == 0) {
		r->type = REQ_SIGSTORE_SIGNED;
		return parse_sigstore_signed(p, v, where, r);
	}
	if (strcmp(t, "signedBaseLayer") == 0) {
		yajl_val identity;
		const struct rune_json_field fields[] = { { "type", &type }, { "baseLayerIdentity", &identity } };
		r->type = REQ_SIGNED_BASE_LAYER;
		cleanup_free char *wi = xasprintf("%s.baseLayerIdentity", where);
		if (rune_json_object_fields(v, where, fields, ARRAY_SIZE(fields), p->err) < 0)
			return rune_error_wrap(p->err, "policy %s", p->source);
		if (identity == NULL)
			return fail(p, wi, "%s", "missing");
		return parse_identity(p, identity, wi, &r->identity);
	}
	return fail(p, wt, "unknown requirement type \"%s\"", t);
}

static int parse_reqs(struct parse *p, yajl_val v, const char *where, struct policy_reqs *out)
{
	out->where = xstrdup(where);
	if (!YAJL_IS_ARRAY(v))
		return fail(p, where, "%s", "want an array of requirements");
	if (v->u.array.len == 0)
		return fail(p, where, "%s", "the list of requirements must not be empty");
	out->v = xcalloc(v->u.array.len, sizeof(*out->v));
	for (size_t i = 0; i < v->u.array.len; i++) {
		cleanup_free char *wi = xasprintf("%s[%zu]", where, i);
		out->n++;
		if (parse_req(p, v->u.array.values[i], wi, &out->v[i]) < 0)
			return -1;
	}
	return 0;
}

static void reqs_release(struct policy_reqs *rs);

/* A docker transport scope: "", host[:port], *.domain, or a canonical
 * repository or reference. */
static int check_docker_scope(struct parse *p, const char *scope, const char *where)
{
	if (*scope == '\0')
		return 0;
	if (strncmp(scope, "*.", 2) == 0) {
		if (!valid_host(scope + 2, false))
			return fail(p, where, "wildcard scope \"%s\" must be *.domain, with no port or path", scope);
		return 0;
	}
	if (strchr(scope, '/') == NULL) {
		if (!valid_host(scope, true))
			return fail(p, where, "scope \"%s\" is not a host[:port]", scope);
		return 0;
	}
	/* Names are looked up fully expanded: a scope must start with its registry. */
	size_t n = strcspn(scope, "/");
	if (!memchr(scope, '.', n) && !memchr(scope, ':', n) && strncmp(scope, "localhost/", 10) != 0)
		return fail(p, where,
		            "scope \"%s\" does not start with a registry host (names are fully expanded: "
		            "docker.io/library/busybox)",
		            scope);
	struct image_ref r;
	if (image_ref_parse_named(scope, &r, p->err) < 0)
		return rune_error_wrap(p->err, "policy %s: %s", p->source, where);
	image_ref_release(&r);
	return 0;
}

static int parse_transports(struct parse *p, yajl_val v, struct policy *pol)
{
	if (!YAJL_IS_OBJECT(v))
		return fail(p, "transports", "%s", "want an object");
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *transport = v->u.object.keys[i];
		yajl_val scopes = v->u.object.values[i];
		cleanup_free char *wt = path_member("transports", transport);
		for (size_t j = 0; j < i; j++)
			if (strcmp(v->u.object.keys[j], transport) == 0)
				return fail(p, wt, "%s", "appears twice");
		if (!YAJL_IS_OBJECT(scopes))
			return fail(p, wt, "%s", "want an object of scopes");
		bool docker = strcmp(transport, "docker") == 0;
		for (size_t k = 0; k < scopes->u.object.len; k++) {
			const char *scope = scopes->u.object.keys[k];
			cleanup_free char *ws = xasprintf("%s[\"%s\"]", wt, scope);
			for (size_t j = 0; j < k; j++)
				if (strcmp(scopes->u.object.keys[j], scope) == 0)
					return fail(p, ws, "%s", "appears twice");
			if (docker && check_docker_scope(p, scope, ws) < 0)
				return -1;
			/* Other transports' requirements are checked, as containers/image does, then dropped. */
			struct policy_reqs reqs = { 0 };
			struct policy_scope *s = NULL;
			if (docker) {
				pol->docker = xrealloc(pol->docker, (pol->n_docker + 1) * sizeof(*pol->docker));
				s = &pol->docker[pol->n_docker++];
				memset(s, 0, sizeof(*s));
				s->name = xstrdup(scope);
			}
			int rc = parse_reqs(p, scopes->u.object.values[k], ws, s ? &s->reqs : &reqs);
			if (!s)
				reqs_release(&reqs);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

int image_policy_parse(const char *data, size_t len, const char *source, const struct image_trust *t,
                       struct policy **out, rune_error_t *err)
{
	struct parse p = { .t = t, .source = source, .err = err };
	yajl_val tree = NULL, def = NULL, transports = NULL;
	const struct rune_json_field fields[] = { { "default", &def }, { "transports", &transports } };
	if (len > POLICY_MAX)
		return rune_error(err, 0, "policy %s: larger than %d bytes", source, POLICY_MAX);
	if (memchr(data, '\0', len))
		return rune_error(err, 0, "policy %s: contains a NUL byte", source);
	cleanup_free char *text = strndup(data, len);
	cleanup_free char *what = xasprintf("policy %s", source);
	if (rune_json_parse(text, what, &tree, err) < 0)
		return -1;
	struct policy *pol = xcalloc(1, sizeof(*pol));
	pol->source = xstrdup(source);
	int rc = rune_json_object_fields(tree, "top level", fields, ARRAY_SIZE(fields), err);
	if (rc < 0)
		rune_error_wrap(err, "policy %s", source);
	else if (def == NULL)
		rc = fail(&p, "default", "%s", "missing (a policy must say what applies when no scope matches)");
	else
		rc = parse_reqs(&p, def, "default", &pol->def);
	if (rc == 0 && transports)
		rc = parse_transports(&p, transports, pol);
	yajl_tree_free(tree);
	if (rc < 0) {
		image_policy_free(pol);
		return -1;
	}
	*out = pol;
	return 0;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

int image_policy_load(const struct image_trust *t, struct policy **out, rune_error_t *err)
{
	if (t->policy_data)
		return image_policy_parse(t->policy_data, t->policy_len, t->policy ? t->policy : "(in memory)", t, out,
		                          err);
	cleanup_free char *user = NULL;
	const char *path = t->policy;
	const char *home = getenv("HOME");
	if (path == NULL && home && *home) {
		user = xasprintf("%s/.config/containers/policy.json", home);
		if (exists(user))
			path = user;
	}
	if (path == NULL)
		path = "/etc/containers/policy.json";
	if (!exists(path)) {
		rune_error(err, 0,
		           "no policy: %s does not exist (write one, name one with --policy, or pass --insecure-policy "
		           "to accept any image)",
		           path);
		return rune_error_set_status(err, ENOENT);
	}
	cleanup_free char *data = NULL;
	size_t len;
	if (rune_read_file(path, POLICY_MAX, &data, &len, err) < 0)
		return rune_error_wrap(err, "policy");
	return image_policy_parse(data, len, path, t, out, err);
}

static void reqs_release(struct policy_reqs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		struct policy_req *r = &rs->v[i];
		free(r->where);
		free(r->identity.reference);
		free(r->identity.prefix);
		free(r->identity.signed_prefix);
		for (size_t k = 0; k < r->n_keys; k++)
			blob_release(&r->keys[k]);
		for (size_t k = 0; k < r->n_rekor_keys; k++)
			blob_release(&r->rekor_keys[k]);
		free(r->keys);
		free(r->rekor_keys);
		blob_release(r->ca);
		blob_release(r->intermediates);
		free(r->ca);
		free(r->intermediates);
		free(r->oidc_issuer);
		free(r->subject_email);
		free(r->subject_hostname);
	}
	free(rs->v);
	free(rs->where);
}

void image_policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	reqs_release(&p->def);
	for (size_t i = 0; i < p->n_docker; i++) {
		free(p->docker[i].name);
		reqs_release(&p->docker[i].reqs);
	}
	free(p->docker);
	free(p->source);
	free(p);
}

char **image_policy_scopes_of(const struct image_ref *ref)
{
	char **v = NULL;
	cleanup_free char *full = image_ref_string(ref);
	rune_strv_append(&v, full);
	/* The repository, then each parent namespace, down to host[:port]. */
	cleanup_free char *name = image_ref_repo(ref);
	for (char *slash;; *slash = '\0') {
		rune_strv_append(&v, name);
		if ((slash = strrchr(name, '/')) == NULL)
			break;
	}
	/* Then *.domain wildcards of the host, without its port. */
	name[strcspn(name, ":")] = '\0';
	for (char *dot = strchr(name, '.'); dot; dot = strchr(dot + 1, '.')) {
		cleanup_free char *w = xasprintf("*%s", dot);
		rune_strv_append(&v, w);
	}
	return v;
}

const struct policy_reqs *image_policy_for(const struct policy *p, const struct image_ref *ref)
{
	cleanup_strv char **scopes = image_policy_scopes_of(ref);
	for (char **s = scopes; *s; s++)
		for (size_t i = 0; i < p->n_docker; i++)
			if (strcmp(p->docker[i].name, *s) == 0)
				return &p->docker[i].reqs;
	for (size_t i = 0; i < p->n_docker; i++)
		if (p->docker[i].name[0] == '\0')
			return &p->docker[i].reqs;
	return &p->def;
}

char *image_policy_req_summary(const struct policy_req *r)
{
	switch (r->type) {
	case REQ_INSECURE_ACCEPT_ANYTHING:
		return xstrdup("insecureAcceptAnything");
	case REQ_REJECT:
		return xstrdup("reject");
	case REQ_SIGNED_BASE_LAYER:
		return xstrdup("signedBaseLayer");
	case REQ_SIGNED_BY:
		return xasprintf("signedBy %s%s", r->keys[0].name, r->n_keys > 1 ? " (and more keys)" : "");
	case REQ_SIGSTORE_SIGNED:
		break;
	}
	const char *rekor = r->n_rekor_keys ? ", Rekor" : "";
	if (r->fulcio)
		return xasprintf("sigstoreSigned fulcio (%s, issuer %s, email %s%s)", r->ca->name, r->oidc_issuer,
		                 r->subject_email, rekor);
	if (r->pki)
		return xasprintf("sigstoreSigned pki (%s%s%s%s%s%s)", r->ca->name, r->subject_email ? ", email " : "",
		                 r->subject_email ? r->subject_email : "", r->subject_hostname ? ", hostname " : "",
		                 r->subject_hostname ? r->subject_hostname : "", rekor);
	return xasprintf("sigstoreSigned %s%s%s", r->keys[0].name, r->n_keys > 1 ? " (and more keys)" : "", rekor);
}

/* ---- identity matching (containers/image's policy_reference_match.go) ---- */

static bool prefix_matches(const char *ref, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(ref, prefix, n) != 0)
		return false;
	return ref[n] == '\0' || ref[n] == '/' || ref[n] == ':' || ref[n] == '@';
}

/* Signed identity and image as references: equal names, and for exact
 * matches equal tag and digest. */
static bool same_ref(const struct image_ref *a, const struct image_ref *b, bool exact)
{
	if (strcmp(a->registry, b->registry) != 0 || strcmp(a->repository, b->repository) != 0)
		return false;
	if (!exact)
		return true;
	bool tags = (a->tag == NULL) == (b->tag == NULL) && (a->tag == NULL || strcmp(a->tag, b->tag) == 0);
	bool digests =
	    (a->digest == NULL) == (b->digest == NULL) && (a->digest == NULL || strcmp(a->digest, b->digest) == 0);
	return tags && digests;
}

static bool repo_digest_or_exact(const struct image_ref *image, const struct image_ref *sig)
{
	if (image->digest)
		return same_ref(image, sig, false);
	if (image->tag)
		return same_ref(image, sig, true);
	return false;
}

bool image_identity_matches(const struct signed_identity *id, const struct image_ref *image, const char *signed_ref,
                            char **why)
{
	struct image_ref sig = { 0 }, remapped = { 0 };
	rune_error_t perr = NULL;
	bool ok = false;
	cleanup_free char *image_name = image_ref_string(image);
	if (signed_ref == NULL) {
		/* No signed identity: the repository the signature is stored in stands for it. */
		sig.registry = xstrdup(image->registry);
		sig.repository = xstrdup(image->repository);
	} else if (image_ref_parse_named(signed_ref, &sig, &perr) < 0) {
		*why = xasprintf("the signed identity is not a docker reference: %s", perr->msg);
		rune_error_release(&perr);
		return false;
	}
	switch (id->type) {
	case ID_MATCH_EXACT:
		ok = (image->tag || image->digest) && same_ref(image, &sig, true);
		break;
	case ID_MATCH_REPO_DIGEST_OR_EXACT:
		ok = repo_digest_or_exact(image, &sig);
		break;
	case ID_MATCH_REPOSITORY:
		ok = same_ref(image, &sig, false);
		break;
	case ID_EXACT_REFERENCE:
	case ID_EXACT_REPOSITORY: {
		struct image_ref want;
		if (image_ref_parse_named(id->reference, &want, &perr) == 0) {
			ok = same_ref(&want, &sig, id->type == ID_EXACT_REFERENCE);
			image_ref_release(&want);
		}
		rune_error_release(&perr);
		break;
	}
	case ID_REMAP_IDENTITY: {
		/* Rewrite the image's reference from prefix to signedPrefix, then as matchRepoDigestOrExact. */
		const struct image_ref *use = image;
		if (prefix_matches(image_name, id->prefix)) {
			cleanup_free char *s = xasprintf("%s%s", id->signed_prefix, image_name + strlen(id->prefix));
			if (image_ref_parse_named(s, &remapped, &perr) == 0)
				use = &remapped;
			rune_error_release(&perr);
		}
		ok = use == &remapped || !prefix_matches(image_name, id->prefix) ? repo_digest_or_exact(use, &sig)
		                                                                 : false;
		break;
	}
	}
	if (!ok) {
		static const char *const names[] = { "matchExact",     "matchRepoDigestOrExact", "matchRepository",
			                             "exactReference", "exactRepository",        "remapIdentity" };
		const char *rule = names[id->type];
		bool repo_level = id->type == ID_MATCH_REPOSITORY || image->digest != NULL;
		cleanup_free char *repo = image_ref_repo(image);
		if (signed_ref == NULL)
			*why = xasprintf(
			    "the signature names no identity (it signs the digest only), which signedIdentity "
			    "%s does not accept for %s",
			    rule, image_name);
		else if (id->type == ID_EXACT_REFERENCE || id->type == ID_EXACT_REPOSITORY)
			*why = xasprintf("identity %s is not %s (signedIdentity %s)", signed_ref, id->reference, rule);
		else
			*why = xasprintf("identity %s does not match the pulled %s %s (signedIdentity %s)", signed_ref,
			                 repo_level ? "repository" : "reference", repo_level ? repo : image_name, rule);
	}
	image_ref_release(&sig);
	image_ref_release(&remapped);
	return ok;
}
