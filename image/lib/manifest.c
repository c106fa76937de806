#include "manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cleanup.h"
#include "json.h"
#include "ref.h"
#include "util.h"

static void descriptor_release(struct descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	image_platform_release(&d->platform);
}

static int parse_descriptor(yajl_val v, const char *where, struct descriptor *d, rune_error_t *err)
{
	memset(d, 0, sizeof(*d));
	if (!YAJL_IS_OBJECT(v))
		return rune_error(err, EINVAL, "%s: not an object", where);
	if (rune_json_read_string(rune_json_get(v, "mediaType"), "mediaType", &d->media_type, err) < 0
	    || rune_json_read_string(rune_json_get(v, "digest"), "digest", &d->digest, err) < 0
	    || rune_json_read_int64(rune_json_get(v, "size"), "size", &d->size, err) < 0)
		return rune_error_wrap(err, "%s", where);
	if (d->media_type == NULL || d->media_type[0] == '\0')
		return rune_error(err, EINVAL, "%s: mediaType: missing", where);
	if (image_digest_validate(d->digest, where, err) < 0)
		return -1;
	if (rune_json_get(v, "size") == NULL || d->size < 0)
		return rune_error(err, EINVAL, "%s: size: missing or negative", where);
	yajl_val p = rune_json_get(v, "platform");
	if (p) {
		cleanup_free char *pw = xasprintf("%s.platform", where);
		if (rune_json_expect_object(p, pw, err) < 0
		    || rune_json_read_string(rune_json_get(p, "os"), "os", &d->platform.os, err) < 0
		    || rune_json_read_string(rune_json_get(p, "architecture"), "architecture",
		                             &d->platform.architecture, err)
		           < 0
		    || rune_json_read_string(rune_json_get(p, "variant"), "variant", &d->platform.variant, err) < 0)
			return rune_error_wrap(err, "%s", pw);
	}
	d->annotations = rune_json_get(v, "annotations");
	if (rune_json_expect_object(d->annotations, "annotations", err) < 0)
		return rune_error_wrap(err, "%s", where);
	return 0;
}

static int parse_list(yajl_val arr, const char *where, struct descriptor **out, size_t *n, rune_error_t *err)
{
	if (rune_json_expect_array(arr, where, err) < 0)
		return -1;
	size_t len = arr ? arr->u.array.len : 0;
	*out = xcalloc(len ? len : 1, sizeof(**out));
	for (size_t i = 0; i < len; i++) {
		cleanup_free char *w = xasprintf("%s[%zu]", where, i);
		*n = i + 1;
		if (parse_descriptor(arr->u.array.values[i], w, &(*out)[i], err) < 0)
			return -1;
	}
	*n = len;
	return 0;
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static int manifest_parse(const char *body, const char *content_type, const char *where, struct manifest *m,
                          rune_error_t *err)
{
	int64_t schema = 0;
	if (rune_json_parse(body, where, &m->tree, err) < 0)
		return -1;
	if (!YAJL_IS_OBJECT(m->tree))
		return rune_error(err, EINVAL, "%s: not a JSON object", where);
	if (rune_json_read_int64(rune_json_get(m->tree, "schemaVersion"), "schemaVersion", &schema, err) < 0
	    || rune_json_read_string(rune_json_get(m->tree, "mediaType"), "mediaType", &m->media_type, err) < 0)
		return rune_error_wrap(err, "%s", where);
	if (schema == 1 || (content_type && strstr(content_type, "distribution.manifest.v1+")))
		return rune_error(err, ENOTSUP,
		                  "%s: Docker schema 1 manifests are not supported (deprecated and unverifiable); "
		                  "push the image again with a current client",
		                  where);
	if (schema != 2)
		return rune_error(err, EINVAL, "%s: schemaVersion %lld, want 2", where, (long long) schema);
	if (m->media_type == NULL && content_type)
		m->media_type = xstrdup(content_type);
	if (m->media_type == NULL)
		m->media_type = xstrdup(rune_json_get(m->tree, "manifests") ? MT_OCI_INDEX : MT_OCI_MANIFEST);
	cleanup_free char *w = NULL;
	if (is(m->media_type, MT_OCI_INDEX) || is(m->media_type, MT_DOCKER_LIST)) {
		m->kind = MANIFEST_INDEX;
		w = xasprintf("%s: manifests", where);
		return parse_list(rune_json_get(m->tree, "manifests"), w, &m->manifests, &m->n_manifests, err);
	}
	if (!is(m->media_type, MT_OCI_MANIFEST) && !is(m->media_type, MT_DOCKER_MANIFEST))
		return rune_error(err, ENOTSUP, "%s: unsupported manifest media type %s", where, m->media_type);
	m->kind = MANIFEST_IMAGE;
	w = xasprintf("%s: config", where);
	if (parse_descriptor(rune_json_get(m->tree, "config"), w, &m->config, err) < 0)
		return -1;
	if (!is(m->config.media_type, MT_OCI_CONFIG) && !is(m->config.media_type, MT_DOCKER_CONFIG))
		return rune_error(err, ENOTSUP, "%s: config: media type %s is not an image config", where,
		                  m->config.media_type);
	if (m->config.size > CONFIG_MAX)
		return rune_error(err, EFBIG, "%s: config: %lld bytes, more than the limit of %d", where,
		                  (long long) m->config.size, CONFIG_MAX);
	free(w);
	w = xasprintf("%s: layers", where);
	return parse_list(rune_json_get(m->tree, "layers"), w, &m->layers, &m->n_layers, err);
}

/* On failure nothing is left to release (the fuzz target found the tree of a
 * non-object document leaking). */
int image_manifest_parse(const char *body, const char *content_type, const char *where, struct manifest *m,
                         rune_error_t *err)
{
	memset(m, 0, sizeof(*m));
	if (manifest_parse(body, content_type, where, m, err) == 0)
		return 0;
	image_manifest_release(m);
	return -1;
}

void image_manifest_release(struct manifest *m)
{
	free(m->media_type);
	descriptor_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_release(&m->layers[i]);
	for (size_t i = 0; i < m->n_manifests; i++)
		descriptor_release(&m->manifests[i]);
	free(m->layers);
	free(m->manifests);
	if (m->tree)
		yajl_tree_free(m->tree);
	memset(m, 0, sizeof(*m));
}

void image_platform_host(struct platform *p)
{
	struct utsname u;
	const char *arch = "amd64", *variant = NULL;
	memset(p, 0, sizeof(*p));
	if (uname(&u) == 0) {
		if (strcmp(u.machine, "aarch64") == 0) {
			arch = "arm64";
			variant = "v8";
		} else if (strncmp(u.machine, "armv7", 5) == 0) {
			arch = "arm";
			variant = "v7";
		} else if (strncmp(u.machine, "armv6", 5) == 0) {
			arch = "arm";
			variant = "v6";
		} else if (strcmp(u.machine, "i686") == 0 || strcmp(u.machine, "i386") == 0) {
			arch = "386";
		} else if (strcmp(u.machine, "x86_64") != 0) {
			arch = u.machine; /* ppc64le, s390x, riscv64 are spelled the same */
		}
	}
	p->os = xstrdup("linux");
	p->architecture = xstrdup(arch);
	p->variant = variant ? xstrdup(variant) : NULL;
}

int image_platform_parse(const char *s, struct platform *p, rune_error_t *err)
{
	memset(p, 0, sizeof(*p));
	cleanup_free char *copy = xstrdup(s);
	char *save = NULL;
	char *os = strtok_r(copy, "/", &save), *arch = strtok_r(NULL, "/", &save), *var = strtok_r(NULL, "/", &save);
	if (os == NULL || arch == NULL || strtok_r(NULL, "/", &save) != NULL)
		return rune_error(err, EINVAL, "platform \"%s\": want os/arch[/variant], e.g. linux/arm64", s);
	p->os = xstrdup(os);
	p->architecture = xstrdup(arch);
	p->variant = var ? xstrdup(var) : NULL;
	return 0;
}

char *image_platform_string(const struct platform *p)
{
	return xasprintf("%s/%s%s%s", p->os ? p->os : "?", p->architecture ? p->architecture : "?",
	                 p->variant ? "/" : "", p->variant ? p->variant : "");
}

void image_platform_release(struct platform *p)
{
	free(p->os);
	free(p->architecture);
	free(p->variant);
	memset(p, 0, sizeof(*p));
}

int image_manifest_select(const struct manifest *index, const struct platform *want, const struct descriptor **out,
                          const char *where, rune_error_t *err)
{
	const struct descriptor *best = NULL;
	for (size_t i = 0; i < index->n_manifests; i++) {
		const struct descriptor *d = &index->manifests[i];
		const struct platform *p = &d->platform;
		if (!is(d->media_type, MT_OCI_MANIFEST) && !is(d->media_type, MT_DOCKER_MANIFEST))
			continue;
		if (!is(p->os, want->os) || !is(p->architecture, want->architecture))
			continue;
		/* An exact variant wins; an entry without one stands in for any. */
		if (want->variant && p->variant && strcmp(want->variant, p->variant) != 0)
			continue;
		if (best == NULL || (want->variant && is(p->variant, want->variant)))
			best = d;
	}
	if (best) {
		*out = best;
		return 0;
	}
	cleanup_free char *w = image_platform_string(want);
	cleanup_free char *avail = xstrdup("");
	for (size_t i = 0; i < index->n_manifests; i++) {
		cleanup_free char *p = image_platform_string(&index->manifests[i].platform);
		char *n = xasprintf("%s%s%s", avail, *avail ? ", " : "", p);
		free(avail);
		avail = n;
	}
	return rune_error(err, ENOENT, "%s: no image for platform %s (the index has: %s)", where, w,
	                  *avail ? avail : "nothing");
}

int image_layer_compression(const struct descriptor *d, enum compression *c, bool *encrypted, rune_error_t *err)
{
	static const char suffix[] = "+encrypted";
	cleanup_free char *mt = xstrdup(d->media_type);
	size_t n = strlen(mt);
	/* ocicrypt's types: an OCI layer type with +encrypted; after decryption, the type without it. */
	*encrypted = n > sizeof(suffix) - 1 && strcmp(mt + n - (sizeof(suffix) - 1), suffix) == 0;
	if (*encrypted)
		mt[n - (sizeof(suffix) - 1)] = '\0';
	bool oci = strncmp(mt, "application/vnd.oci.image.layer.", 32) == 0;
	if (is(mt, "application/vnd.oci.image.layer.v1.tar")
	    || is(mt, "application/vnd.oci.image.layer.nondistributable.v1.tar"))
		*c = COMPRESSION_NONE;
	else if (is(mt, "application/vnd.oci.image.layer.v1.tar+gzip")
	         || is(mt, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")
	         || (!*encrypted
	             && (is(mt, "application/vnd.docker.image.rootfs.diff.tar.gzip")
	                 || is(mt, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"))))
		*c = COMPRESSION_GZIP;
	else if (is(mt, "application/vnd.oci.image.layer.v1.tar+zstd")
	         || is(mt, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"))
		*c = COMPRESSION_ZSTD;
	else
		return rune_error(err, ENOTSUP, "layer %s: unsupported media type %s%s", d->digest, d->media_type,
		                  *encrypted && !oci ? " (only OCI layer types are encrypted)" : "");
	return 0;
}

static int config_parse(const char *body, const char *where, struct image_config *c, rune_error_t *err)
{
	if (rune_json_parse(body, where, &c->tree, err) < 0)
		return -1;
	if (!YAJL_IS_OBJECT(c->tree))
		return rune_error(err, EINVAL, "%s: not a JSON object", where);
	yajl_val cfg = rune_json_get(c->tree, "config"), rootfs = rune_json_get(c->tree, "rootfs");
	if (rune_json_expect_object(cfg, "config", err) < 0
	    || rune_json_read_strv(rune_json_get(cfg, "Entrypoint"), "config.Entrypoint", &c->entrypoint, NULL, err) < 0
	    || rune_json_read_strv(rune_json_get(cfg, "Cmd"), "config.Cmd", &c->cmd, NULL, err) < 0
	    || rune_json_read_strv(rune_json_get(cfg, "Env"), "config.Env", &c->env, NULL, err) < 0
	    || rune_json_read_string(rune_json_get(cfg, "WorkingDir"), "config.WorkingDir", &c->working_dir, err) < 0
	    || rune_json_read_string(rune_json_get(cfg, "User"), "config.User", &c->user, err) < 0
	    || rune_json_read_string(rune_json_get(cfg, "StopSignal"), "config.StopSignal", &c->stop_signal, err) < 0
	    || rune_json_expect_object(rune_json_get(cfg, "Labels"), "config.Labels", err) < 0
	    || rune_json_expect_object(rune_json_get(cfg, "ExposedPorts"), "config.ExposedPorts", err) < 0
	    || rune_json_read_string(rune_json_get(c->tree, "os"), "os", &c->os, err) < 0
	    || rune_json_read_string(rune_json_get(c->tree, "architecture"), "architecture", &c->architecture, err) < 0
	    || rune_json_read_string(rune_json_get(c->tree, "variant"), "variant", &c->variant, err) < 0
	    || rune_json_read_string(rune_json_get(c->tree, "author"), "author", &c->author, err) < 0
	    || rune_json_read_string(rune_json_get(c->tree, "created"), "created", &c->created, err) < 0
	    || rune_json_expect_object(rootfs, "rootfs", err) < 0
	    || rune_json_read_strv(rune_json_get(rootfs, "diff_ids"), "rootfs.diff_ids", &c->diff_ids, &c->n_diff_ids,
	                           err)
	           < 0)
		return rune_error_wrap(err, "%s", where);
	c->labels = rune_json_get(cfg, "Labels");
	c->exposed_ports = rune_json_get(cfg, "ExposedPorts");
	for (size_t i = 0; i < c->n_diff_ids; i++) {
		cleanup_free char *w = xasprintf("%s: rootfs.diff_ids[%zu]", where, i);
		if (image_digest_validate(c->diff_ids[i], w, err) < 0)
			return -1;
	}
	return 0;
}

int image_config_parse(const char *body, const char *where, struct image_config *c, rune_error_t *err)
{
	memset(c, 0, sizeof(*c));
	if (config_parse(body, where, c, err) == 0)
		return 0;
	image_config_release(c);
	return -1;
}

void image_config_release(struct image_config *c)
{
	cleanup_strvp(&c->entrypoint);
	cleanup_strvp(&c->cmd);
	cleanup_strvp(&c->env);
	cleanup_strvp(&c->diff_ids);
	free(c->working_dir);
	free(c->user);
	free(c->stop_signal);
	free(c->os);
	free(c->architecture);
	free(c->variant);
	free(c->author);
	free(c->created);
	if (c->tree)
		yajl_tree_free(c->tree);
	memset(c, 0, sizeof(*c));
}
