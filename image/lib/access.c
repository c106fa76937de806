#include "access.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "encoding.h"
#include "json.h"
#include "util.h"

#define CONF_MAX (1 << 20)

/* The registries.conf subset that matters for pulling: [[registry]] tables
 * with prefix/location/insecure/blocked and [[registry.mirror]] lists, and
 * the v1 [registries.insecure] / [registries.block] lists. */
struct conf_mirror {
	char *location;
	bool insecure;
};

struct conf_registry {
	char *prefix, *location;
	bool insecure, blocked;
	struct conf_mirror *mirrors;
	size_t n_mirrors;
};

struct conf {
	struct conf_registry *regs;
	size_t n;
	char **v1_insecure, **v1_block;
};

static void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->regs[i].prefix);
		free(c->regs[i].location);
		for (size_t j = 0; j < c->regs[i].n_mirrors; j++)
			free(c->regs[i].mirrors[j].location);
		free(c->regs[i].mirrors);
	}
	free(c->regs);
	cleanup_strvp(&c->v1_insecure);
	cleanup_strvp(&c->v1_block);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* A TOML string ("..." with escapes \" \\, or '...'); NULL if v is not one. */
static char *toml_string(const char *v, const char **end)
{
	char q = *v;
	if (q != '"' && q != '\'')
		return NULL;
	char *out = xmalloc(strlen(v) + 1), *o = out;
	for (v++; *v && *v != q; v++) {
		if (q == '"' && *v == '\\' && v[1])
			v++;
		*o++ = *v;
	}
	*o = '\0';
	if (*v != q) {
		free(out);
		return NULL;
	}
	if (end)
		*end = v + 1;
	return out;
}

static int toml_bool(const char *v, bool *out)
{
	if (strcmp(v, "true") == 0)
		*out = true;
	else if (strcmp(v, "false") == 0)
		*out = false;
	else
		return -1;
	return 0;
}

static int toml_strv(const char *v, char ***out)
{
	if (*v != '[')
		return -1;
	for (v++;;) {
		while (*v == ' ' || *v == '\t' || *v == ',' || *v == '\n')
			v++;
		if (*v == ']')
			return 0;
		const char *e;
		char *s = toml_string(v, &e);
		if (s == NULL)
			return -1;
		rune_strv_append(out, s);
		free(s);
		v = e;
	}
}

/* Strip a comment that is not inside a string. */
static void strip_comment(char *line)
{
	char q = 0;
	for (char *p = line; *p; p++) {
		if (q) {
			if (*p == '\\' && q == '"' && p[1])
				p++;
			else if (*p == q)
				q = 0;
		} else if (*p == '"' || *p == '\'') {
			q = *p;
		} else if (*p == '#') {
			*p = '\0';
			return;
		}
	}
}

static int conf_set(struct conf *c, const char *table, const char *key, const char *val, const char *path, int lineno,
                    rune_error_t *err)
{
	struct conf_registry *r = c->n ? &c->regs[c->n - 1] : NULL;
	bool b;
	if (strcmp(table, "registry") == 0 || strcmp(table, "registry.mirror") == 0) {
		/* [registry] rather than [[registry]]: no entry to set (found by tests/fuzz) */
		if (r == NULL)
			return rune_error(err, EINVAL, "%s:%d: %s: not inside a [[registry]] entry", path, lineno, key);
		struct conf_mirror *m =
		    strcmp(table, "registry.mirror") == 0 && r && r->n_mirrors ? &r->mirrors[r->n_mirrors - 1] : NULL;
		if (strcmp(key, "location") == 0 || strcmp(key, "prefix") == 0) {
			char *s = toml_string(val, NULL);
			if (s == NULL)
				goto bad;
			char **dst = m ? &m->location : strcmp(key, "prefix") == 0 ? &r->prefix : &r->location;
			if (m && strcmp(key, "prefix") == 0) {
				free(s);
				goto bad;
			}
			free(*dst);
			*dst = s;
			return 0;
		}
		if (strcmp(key, "insecure") == 0 || strcmp(key, "blocked") == 0) {
			if (toml_bool(val, &b) < 0)
				goto bad;
			if (m && strcmp(key, "insecure") == 0)
				m->insecure = b;
			else if (!m && strcmp(key, "insecure") == 0)
				r->insecure = b;
			else if (!m)
				r->blocked = b;
			return 0;
		}
		return 0; /* other keys (mirror-by-digest-only, pull-from-mirror...) do not change where we look */
	}
	if ((strcmp(table, "registries.insecure") == 0 || strcmp(table, "registries.block") == 0)
	    && strcmp(key, "registries") == 0) {
		if (toml_strv(val, strcmp(table, "registries.block") == 0 ? &c->v1_block : &c->v1_insecure) < 0)
			goto bad;
		return 0;
	}
	return 0;
bad:
	return rune_error(err, EINVAL, "%s:%d: %s: unexpected value %s", path, lineno, key, val);
}

static int conf_parse(const char *text, const char *path, struct conf *c, rune_error_t *err)
{
	cleanup_free char *copy = xstrdup(text);
	char table[64] = "";
	int lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		strip_comment(line);
		char *l = trim(line);
		if (*l == '\0')
			continue;
		if (strcmp(l, "[[registry]]") == 0) {
			c->regs = xrealloc(c->regs, (c->n + 1) * sizeof(*c->regs));
			memset(&c->regs[c->n++], 0, sizeof(*c->regs));
			snprintf(table, sizeof(table), "registry");
			continue;
		}
		if (strcmp(l, "[[registry.mirror]]") == 0) {
			if (c->n == 0)
				return rune_error(err, EINVAL, "%s:%d: [[registry.mirror]] outside a [[registry]]",
				                  path, lineno);
			struct conf_registry *r = &c->regs[c->n - 1];
			r->mirrors = xrealloc(r->mirrors, (r->n_mirrors + 1) * sizeof(*r->mirrors));
			memset(&r->mirrors[r->n_mirrors++], 0, sizeof(*r->mirrors));
			snprintf(table, sizeof(table), "registry.mirror");
			continue;
		}
		if (*l == '[') {
			char *e = strchr(l, ']');
			if (e == NULL)
				return rune_error(err, EINVAL, "%s:%d: bad table header", path, lineno);
			*e = '\0';
			snprintf(table, sizeof(table), "%s", trim(l + 1));
			continue;
		}
		char *eq = strchr(l, '=');
		if (eq == NULL)
			return rune_error(err, EINVAL, "%s:%d: expected key = value", path, lineno);
		*eq = '\0';
		char *key = trim(l), *val = trim(eq + 1);
		cleanup_free char *joined = NULL;
		/* A multi-line array continues until its ']'. */
		if (*val == '[' && !strchr(val, ']')) {
			joined = xstrdup(val);
			char *more;
			while (!strchr(joined, ']') && (more = strtok_r(NULL, "\n", &save)) != NULL) {
				lineno++;
				strip_comment(more);
				char *nj = xasprintf("%s %s", joined, trim(more));
				free(joined);
				joined = nj;
			}
			val = joined;
		}
		if (key[0] == '"' && key[strlen(key) - 1] == '"') {
			key[strlen(key) - 1] = '\0';
			key++;
		}
		if (conf_set(c, table, key, val, path, lineno, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < c->n; i++) {
		struct conf_registry *r = &c->regs[i];
		if (r->prefix == NULL && r->location == NULL)
			return rune_error(err, EINVAL, "%s: a [[registry]] needs a prefix or a location", path);
		if (r->prefix == NULL)
			r->prefix = xstrdup(r->location);
		for (size_t j = 0; j < r->n_mirrors; j++)
			if (r->mirrors[j].location == NULL)
				return rune_error(err, EINVAL, "%s: a [[registry.mirror]] of %s has no location", path,
				                  r->prefix);
	}
	return 0;
}

static int conf_load(const struct registry_access *a, struct conf *c, rune_error_t *err)
{
	const char *path = a->registries_conf;
	bool explicit_path = path != NULL;
	if (path == NULL)
		path = getenv("CONTAINERS_REGISTRIES_CONF");
	explicit_path = explicit_path || path != NULL;
	if (path == NULL)
		path = "/etc/containers/registries.conf";
	memset(c, 0, sizeof(*c));
	cleanup_free char *text = NULL;
	if (rune_read_file(path, CONF_MAX, &text, NULL, err) < 0) {
		if (!explicit_path && (*err)->status == ENOENT) {
			rune_error_release(err);
			return 0;
		}
		return -1;
	}
	if (conf_parse(text, path, c, err) < 0) {
		conf_free(c);
		return -1;
	}
	return 0;
}

/* Does prefix match "registry/repository" at a component boundary? */
static size_t prefix_match(const char *prefix, const char *name)
{
	size_t n = strlen(prefix);
	if (strncmp(prefix, name, n) != 0 || (name[n] != '\0' && name[n] != '/'))
		return 0;
	return n;
}

static bool in_list(char **list, const char *host)
{
	for (char **p = list; p && *p; p++)
		if (strcmp(*p, host) == 0)
			return true;
	return false;
}

/* location + what of name follows the prefix: "mirror/x" + "/library/busybox". */
static void add_endpoint(struct registry_endpoint **v, size_t *n, const char *location, const char *rest, bool insecure,
                         bool mirror)
{
	cleanup_free char *full = xasprintf("%s%s", location, rest);
	char *slash = strchr(full, '/');
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	struct registry_endpoint *e = &(*v)[(*n)++];
	e->host = slash ? strndup(full, slash - full) : xstrdup(full);
	e->repository = xstrdup(slash ? slash + 1 : "");
	e->insecure = insecure;
	e->mirror = mirror;
}

int image_access_endpoints(const struct registry_access *a, const struct image_ref *ref, struct registry_endpoint **out,
                           size_t *n, rune_error_t *err)
{
	struct conf c;
	cleanup_free char *name = image_ref_repo(ref);
	*out = NULL;
	*n = 0;
	if (conf_load(a, &c, err) < 0)
		return -1;
	struct conf_registry *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < c.n; i++) {
		size_t l = prefix_match(c.regs[i].prefix, name);
		if (l > best_len) {
			best = &c.regs[i];
			best_len = l;
		}
	}
	bool insecure = a->tls_verify == 0 || in_list(c.v1_insecure, ref->registry);
	int r = 0;
	if ((best && best->blocked) || in_list(c.v1_block, ref->registry)) {
		r = rune_error(err, EACCES, "registry %s is blocked in registries.conf",
		               best ? best->prefix : ref->registry);
	} else if (best) {
		const char *rest = name + best_len;
		for (size_t i = 0; i < best->n_mirrors; i++)
			add_endpoint(out, n, best->mirrors[i].location, rest,
			             best->mirrors[i].insecure || a->tls_verify == 0, true);
		add_endpoint(out, n, best->location ? best->location : best->prefix, rest,
		             (best->insecure && a->tls_verify != 1) || insecure, false);
	}
	if (r == 0 && *n == 0) {
		cleanup_free char *loc = xasprintf("%s/%s", image_ref_api_host(ref), ref->repository);
		add_endpoint(out, n, loc, "", insecure, false);
	}
	/* docker.io as a location still means its API host. */
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*out)[i].host, "docker.io") == 0) {
			free((*out)[i].host);
			(*out)[i].host = xstrdup("registry-1.docker.io");
		}
	conf_free(&c);
	return r;
}

void image_access_endpoints_free(struct registry_endpoint *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].host);
		free(e[i].repository);
	}
	free(e);
}

static int auth_file_candidates(const struct registry_access *a, char ***files)
{
	const char *f = a->authfile ? a->authfile : getenv("REGISTRY_AUTH_FILE");
	if (f) {
		rune_strv_append(files, f);
		return 1; /* explicit: it must exist */
	}
	const char *xdg_run = getenv("XDG_RUNTIME_DIR"), *xdg_conf = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	cleanup_free char *p1 = xdg_run ? xasprintf("%s/containers/auth.json", xdg_run) : NULL;
	cleanup_free char *p2 = xdg_conf ? xasprintf("%s/containers/auth.json", xdg_conf)
	                        : home   ? xasprintf("%s/.config/containers/auth.json", home)
	                                 : NULL;
	cleanup_free char *p3 = home ? xasprintf("%s/.docker/config.json", home) : NULL;
	if (p1)
		rune_strv_append(files, p1);
	if (p2)
		rune_strv_append(files, p2);
	if (p3)
		rune_strv_append(files, p3);
	return 0;
}

static int split_user_pass(const char *s, char **user, char **pass)
{
	const char *colon = strchr(s, ':');
	if (colon == NULL)
		return -1;
	*user = strndup(s, colon - s);
	*pass = xstrdup(colon + 1);
	return 0;
}

/* The auths entry for registry: exact host, then docker's URL spellings. */
static yajl_val find_auth(yajl_val auths, const char *registry)
{
	yajl_val v = rune_json_get(auths, registry);
	if (v)
		return v;
	if (strcmp(registry, "docker.io") == 0) {
		static const char *const docker[] = { "https://index.docker.io/v1/", "index.docker.io",
			                              "registry-1.docker.io" };
		for (size_t i = 0; i < ARRAY_SIZE(docker); i++)
			if ((v = rune_json_get(auths, docker[i])) != NULL)
				return v;
	}
	for (size_t i = 0; YAJL_IS_OBJECT(auths) && i < auths->u.object.len; i++) {
		const char *k = auths->u.object.keys[i];
		const char *h = strstr(k, "://") ? strstr(k, "://") + 3 : k;
		size_t n = strcspn(h, "/");
		if (n == strlen(registry) && strncmp(h, registry, n) == 0)
			return auths->u.object.values[i];
	}
	return NULL;
}

static int decode_auth(const char *b64, const char *where, char **user, char **pass, rune_error_t *err)
{
	cleanup_free unsigned char *raw = NULL;
	size_t len;
	if (!rune_base64_decode(b64, strlen(b64), &raw, &len))
		return rune_error(err, EINVAL, "%s: \"auth\" is not base64", where);
	if (memchr(raw, '\0', len) || split_user_pass((char *) raw, user, pass) < 0)
		return rune_error(err, EINVAL, "%s: \"auth\" does not decode to user:password", where);
	return 0;
}

int image_access_credentials(const struct registry_access *a, const char *registry, char **user, char **pass,
                             rune_error_t *err)
{
	*user = *pass = NULL;
	if (a->creds) {
		if (split_user_pass(a->creds, user, pass) < 0)
			return rune_error(err, EINVAL, "--creds: want USERNAME:PASSWORD");
		return 0;
	}
	cleanup_strv char **files = NULL;
	int explicit_file = auth_file_candidates(a, &files);
	for (char **f = files; f && *f; f++) {
		yajl_val tree = NULL;
		if (rune_json_parse_file(*f, CONF_MAX, &tree, err) < 0) {
			if (!explicit_file && (*err)->status == ENOENT) {
				rune_error_release(err);
				continue;
			}
			return -1;
		}
		yajl_val entry = find_auth(rune_json_get(tree, "auths"), registry);
		int r = 0;
		if (entry) {
			char *b64 = NULL;
			cleanup_free char *where = xasprintf("%s: auths[\"%s\"]", *f, registry);
			r = rune_json_read_string(rune_json_get(entry, "auth"), where, &b64, err);
			if (r == 0 && b64 && *b64)
				r = decode_auth(b64, where, user, pass, err);
			free(b64);
		}
		yajl_tree_free(tree);
		if (r < 0 || *user)
			return r;
	}
	return 0;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

int image_access_tls(const struct registry_access *a, const char *host, char **ca_pem, size_t *ca_len, char **cert,
                     char **key, rune_error_t *err)
{
	cleanup_strv char **dirs = NULL;
	cleanup_free char *extra = xstrdup("");
	*ca_pem = *cert = *key = NULL;
	*ca_len = 0;
	if (a->cert_dir) {
		rune_strv_append(&dirs, a->cert_dir);
	} else {
		cleanup_free char *d1 = xasprintf("/etc/containers/certs.d/%s", host);
		cleanup_free char *d2 = xasprintf("/etc/docker/certs.d/%s", host);
		rune_strv_append(&dirs, d1);
		rune_strv_append(&dirs, d2);
	}
	for (char **d = dirs; *d; d++) {
		cleanup_dir DIR *dir = opendir(*d);
		struct dirent *e;
		if (dir == NULL) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return rune_error(err, errno, "certificates directory %s", *d);
		}
		while ((e = readdir(dir)) != NULL) {
			cleanup_free char *p = xasprintf("%s/%s", *d, e->d_name);
			cleanup_free char *text = NULL;
			if (has_suffix(e->d_name, ".crt")) {
				if (rune_read_file(p, CONF_MAX, &text, NULL, err) < 0)
					return -1;
				char *n = xasprintf("%s%s\n", extra, text);
				free(extra);
				extra = n;
			} else if (has_suffix(e->d_name, ".cert") && *cert == NULL) {
				*cert = xstrdup(p);
			} else if (has_suffix(e->d_name, ".key") && *key == NULL) {
				*key = xstrdup(p);
			}
		}
	}
	if ((*cert == NULL) != (*key == NULL))
		return rune_error(err, EINVAL,
		                  "certificates for %s: a client .cert needs its .key and the other way round", host);
	if (*extra == '\0')
		return 0;
	cleanup_free char *system = NULL;
	size_t slen = 0;
	rune_error_t ignored = NULL;
	if (rune_read_file("/etc/ssl/certs/ca-certificates.crt", 16 << 20, &system, &slen, &ignored) < 0)
		rune_error_release(&ignored);
	*ca_pem = xasprintf("%s\n%s", system ? system : "", extra);
	*ca_len = strlen(*ca_pem);
	return 0;
}
