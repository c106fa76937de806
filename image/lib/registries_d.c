#include "registries_d.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "cleanup.h"
#include "policy.h"
#include "util.h"

#define FILE_MAX  (1 << 20)
#define FILES_MAX 1000

struct rd_entry {
	char *scope; /* NULL: default-docker */
	char *lookaside;
	int use_attachments;
	char *file;
};

struct registries_d {
	struct rd_entry *v;
	size_t n;
};

struct yaml_file {
	yaml_document_t doc;
	const char *name;
	rune_error_t *err;
};

static const char *scalar(struct yaml_file *f, yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *) n->data.scalar.value;
}

static bool is_null(yaml_node_t *n)
{
	const char *s = n && n->type == YAML_SCALAR_NODE ? (const char *) n->data.scalar.value : NULL;
	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
	       && (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0);
}

static int bad(struct yaml_file *f, const char *where, const char *what)
{
	return rune_error(f->err, 0, "registries.d %s: %s: %s", f->name, where, what);
}

static bool valid_url(const char *u)
{
	return strncmp(u, "file://", 7) == 0 || strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

/* One namespace: lookaside (or the old name sigstore), their -staging
 * variants (for writers; checked, not used), use-sigstore-attachments. Other
 * keys are ignored, as containers/image ignores them. */
static int parse_namespace(struct yaml_file *f, yaml_node_t *ns, const char *where, struct rd_entry *e)
{
	const char *lookaside = NULL, *old = NULL;
	e->use_attachments = -1;
	if (is_null(ns))
		return 0;
	if (ns->type != YAML_MAPPING_NODE)
		return bad(f, where, "want a mapping");
	for (yaml_node_pair_t *p = ns->data.mapping.pairs.start; p < ns->data.mapping.pairs.top; p++) {
		const char *k = scalar(f, yaml_document_get_node(&f->doc, p->key));
		yaml_node_t *vn = yaml_document_get_node(&f->doc, p->value);
		const char *v = scalar(f, vn);
		if (k == NULL)
			return bad(f, where, "a key that is not a string");
		cleanup_free char *wk = xasprintf("%s.%s", where, k);
		bool url_key = strcmp(k, "lookaside") == 0 || strcmp(k, "sigstore") == 0
		               || strcmp(k, "lookaside-staging") == 0 || strcmp(k, "sigstore-staging") == 0;
		if (url_key) {
			if (v == NULL)
				return bad(f, wk, "want a URL");
			if (!valid_url(v))
				return bad(f, wk, "want a file://, http:// or https:// URL");
			if (strcmp(k, "lookaside") == 0)
				lookaside = v;
			else if (strcmp(k, "sigstore") == 0)
				old = v;
		} else if (strcmp(k, "use-sigstore-attachments") == 0) {
			if (v == NULL || parse_bool(v, &e->use_attachments) < 0)
				return bad(f, wk, "want true or false");
		}
	}
	if (lookaside || old)
		e->lookaside = xstrdup(lookaside ? lookaside : old);
	return 0;
}

static int add_entry(struct registries_d *r, struct yaml_file *f, const char *scope, yaml_node_t *ns)
{
	for (size_t i = 0; i < r->n; i++) {
		bool same = scope ? r->v[i].scope && strcmp(r->v[i].scope, scope) == 0 : r->v[i].scope == NULL;
		if (same) {
			if (scope)
				return rune_error(f->err, 0,
				                  "registries.d: docker[\"%s\"] is defined both in %s and in %s", scope,
				                  r->v[i].file, f->name);
			return rune_error(f->err, 0, "registries.d: default-docker is defined both in %s and in %s",
			                  r->v[i].file, f->name);
		}
	}
	struct rd_entry e = { .scope = scope ? xstrdup(scope) : NULL, .file = xstrdup(f->name) };
	cleanup_free char *where = scope ? xasprintf("docker[\"%s\"]", scope) : xstrdup("default-docker");
	if (parse_namespace(f, ns, where, &e) < 0) {
		free(e.scope);
		free(e.file);
		free(e.lookaside);
		return -1;
	}
	r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n++] = e;
	return 0;
}

static int parse_root(struct registries_d *r, struct yaml_file *f)
{
	yaml_node_t *root = yaml_document_get_root_node(&f->doc);
	if (root == NULL || is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return bad(f, "top level", "want a mapping");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const char *k = scalar(f, yaml_document_get_node(&f->doc, p->key));
		yaml_node_t *v = yaml_document_get_node(&f->doc, p->value);
		if (k && strcmp(k, "default-docker") == 0) {
			if (add_entry(r, f, NULL, v) < 0)
				return -1;
		} else if (k && strcmp(k, "docker") == 0 && !is_null(v)) {
			if (v->type != YAML_MAPPING_NODE)
				return bad(f, "docker", "want a mapping of scopes");
			for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
				const char *scope = scalar(f, yaml_document_get_node(&f->doc, q->key));
				if (scope == NULL)
					return bad(f, "docker", "a scope that is not a string");
				if (add_entry(r, f, scope, yaml_document_get_node(&f->doc, q->value)) < 0)
					return -1;
			}
		}
	}
	return 0;
}

int image_registries_d_parse(struct registries_d **r, const char *data, size_t len, const char *name, rune_error_t *err)
{
	if (*r == NULL)
		*r = xcalloc(1, sizeof(**r));
	if (len > FILE_MAX)
		return rune_error(err, 0, "registries.d %s: larger than %d bytes", name, FILE_MAX);
	yaml_parser_t parser;
	struct yaml_file f = { .name = name, .err = err };
	if (!yaml_parser_initialize(&parser))
		rune_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
	int rc;
	if (!yaml_parser_load(&parser, &f.doc)) {
		rc = rune_error(err, 0, "registries.d %s: line %zu: %s", name, parser.problem_mark.line + 1,
		                parser.problem ? parser.problem : "invalid YAML");
	} else {
		rc = parse_root(*r, &f);
		yaml_document_delete(&f.doc);
	}
	yaml_parser_delete(&parser);
	return rc;
}

static int filter_yaml(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

/* A directory that does not exist is an empty configuration, as for containers/image. */
static int load_dir(struct registries_d **r, const char *dir, rune_error_t *err)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, filter_yaml, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return 0;
		return rune_error(err, errno, "registries.d %s", dir);
	}
	int rc = n > FILES_MAX ? rune_error(err, 0, "registries.d %s: more than %d files", dir, FILES_MAX) : 0;
	for (int i = 0; i < n; i++) {
		if (rc == 0) {
			cleanup_free char *path = xasprintf("%s/%s", dir, names[i]->d_name);
			cleanup_free char *data = NULL;
			size_t len;
			rc = rune_read_file(path, FILE_MAX, &data, &len, err);
			if (rc == 0)
				rc = image_registries_d_parse(r, data, len, path, err);
			else
				rune_error_wrap(err, "registries.d");
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int image_registries_d_load(const struct image_trust *t, struct registries_d **out, rune_error_t *err)
{
	struct registries_d *r = NULL;
	int rc;
	if (t->registries_d_data) {
		rc = image_registries_d_parse(&r, t->registries_d_data, t->registries_d_len,
		                              t->registries_d ? t->registries_d : "(in memory)", err);
	} else if (t->registries_d) {
		rc = load_dir(&r, t->registries_d, err);
	} else {
		const char *home = getenv("HOME");
		cleanup_free char *user = home && *home ? xasprintf("%s/.config/containers/registries.d", home) : NULL;
		DIR *d = user ? opendir(user) : NULL;
		if (d)
			closedir(d);
		rc = load_dir(&r, d ? user : "/etc/containers/registries.d", err);
	}
	if (r == NULL)
		r = xcalloc(1, sizeof(*r));
	if (rc < 0) {
		image_registries_d_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void image_registries_d_free(struct registries_d *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].scope);
		free(r->v[i].lookaside);
		free(r->v[i].file);
	}
	free(r->v);
	free(r);
}

static const struct rd_entry *find(const struct registries_d *r, const char *scope)
{
	for (size_t i = 0; i < r->n; i++)
		if (scope ? r->v[i].scope && strcmp(r->v[i].scope, scope) == 0 : r->v[i].scope == NULL)
			return &r->v[i];
	return NULL;
}

static char *where_of(const struct rd_entry *e)
{
	return e->scope ? xasprintf("%s: docker[\"%s\"]", e->file, e->scope) : xasprintf("%s: default-docker", e->file);
}

void image_registries_d_for(const struct registries_d *r, const struct image_ref *ref, struct sig_storage *out)
{
	memset(out, 0, sizeof(*out));
	out->use_attachments = -1;
	cleanup_strv char **scopes = image_policy_scopes_of(ref);
	size_t n = rune_strv_len(scopes);
	/* Scopes most specific first, then default-docker (NULL). */
	for (size_t i = 0; i <= n; i++) {
		const struct rd_entry *e = find(r, i < n ? scopes[i] : NULL);
		if (e == NULL)
			continue;
		if (out->lookaside == NULL && e->lookaside) {
			out->lookaside = xstrdup(e->lookaside);
			out->lookaside_from = where_of(e);
		}
		if (out->use_attachments < 0 && e->use_attachments >= 0) {
			out->use_attachments = e->use_attachments;
			out->attachments_from = where_of(e);
		}
	}
}

void image_sig_storage_release(struct sig_storage *s)
{
	free(s->lookaside);
	free(s->lookaside_from);
	free(s->attachments_from);
	memset(s, 0, sizeof(*s));
}
