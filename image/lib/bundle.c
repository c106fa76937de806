/* config.json for an unpacked image, as umoci generates it: runc's default
 * config with the image's Entrypoint + Cmd, Env, WorkingDir and User, and its
 * Labels (plus os, architecture, author, created, stop signal, exposed
 * ports) as annotations. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "bundle.h"
#include "json.h"
#include "spec.h"
#include "util.h"

#define ID_FILE_MAX (4 << 20)

/* Read etc/<file> of the image: in the rootfs, or the top layer that has it. */
static char *read_image_file(const char *rootfs, const char *file)
{
	cleanup_strv char **dirs = NULL;
	const char *base = strrchr(rootfs, '/');
	if (base && strcmp(base + 1, "layers") == 0) {
		/* Per-layer directories 000, 001, ...: the top one first. */
		int n = 0;
		for (;; n++) {
			cleanup_free char *d = xasprintf("%s/%03d", rootfs, n);
			if (access(d, F_OK) < 0)
				break;
		}
		while (n-- > 0) {
			cleanup_free char *d = xasprintf("%s/%03d", rootfs, n);
			rune_strv_append(&dirs, d);
		}
	} else {
		rune_strv_append(&dirs, rootfs);
	}
	for (char **d = dirs; d && *d; d++) {
		cleanup_close int root = open(*d, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (root < 0)
			continue;
		int fd = rune_open_in_root(root, file, O_RDONLY, false);
		if (fd < 0)
			continue;
		char *text = NULL;
		rune_error_t ignored = NULL;
		if (rune_read_fd_all(fd, file, ID_FILE_MAX, &text, NULL, &ignored) < 0)
			rune_error_release(&ignored);
		close(fd);
		return text;
	}
	return NULL;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* Field `field` (0-based) of the colon-separated line whose field 0 or 2 matches. */
static bool lookup(const char *text, const char *name, bool by_id, int field, char *out, size_t len)
{
	cleanup_free char *copy = xstrdup(text ? text : "");
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[8] = { 0 };
		int n = 0;
		for (char *p = line; n < 8;) {
			f[n++] = p;
			char *c = strchr(p, ':');
			if (c == NULL)
				break;
			*c = '\0';
			p = c + 1;
		}
		if (n < 3 || strcmp(f[by_id ? 2 : 0], name) != 0 || field >= n)
			continue;
		snprintf(out, len, "%s", f[field]);
		return true;
	}
	return false;
}

struct ids {
	unsigned uid, gid;
	unsigned *gids;
	size_t n_gids;
};

static int resolve_user(const char *user, const char *rootfs, struct ids *ids, rune_error_t *err)
{
	memset(ids, 0, sizeof(*ids));
	if (user == NULL || *user == '\0')
		return 0;
	cleanup_free char *u = xstrdup(user);
	char *g = strchr(u, ':');
	if (g)
		*g++ = '\0';
	cleanup_free char *passwd = NULL, *group = NULL;
	char buf[256], uname[256] = "";
	if (!all_digits(u) || (g && !all_digits(g)) || !g) {
		passwd = read_image_file(rootfs, "etc/passwd");
		group = read_image_file(rootfs, "etc/group");
	}
	if (all_digits(u)) {
		ids->uid = strtoul(u, NULL, 10);
		if (!g && lookup(passwd, u, true, 3, buf, sizeof(buf)))
			ids->gid = strtoul(buf, NULL, 10);
		lookup(passwd, u, true, 0, uname, sizeof(uname));
	} else {
		if (!lookup(passwd, u, false, 2, buf, sizeof(buf)))
			return rune_error(err, ENOENT, "config.User \"%s\": no user %s in the image's /etc/passwd",
			                  user, u);
		ids->uid = strtoul(buf, NULL, 10);
		if (lookup(passwd, u, false, 3, buf, sizeof(buf)))
			ids->gid = strtoul(buf, NULL, 10);
		snprintf(uname, sizeof(uname), "%s", u);
	}
	if (g && all_digits(g)) {
		ids->gid = strtoul(g, NULL, 10);
	} else if (g) {
		if (!lookup(group, g, false, 2, buf, sizeof(buf)))
			return rune_error(err, ENOENT, "config.User \"%s\": no group %s in the image's /etc/group",
			                  user, g);
		ids->gid = strtoul(buf, NULL, 10);
	}
	/* Supplementary groups: those that list the user, as login would set. */
	if (!g && *uname && group) {
		cleanup_free char *copy = xstrdup(group);
		char *save = NULL;
		for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *f[4] = { 0 };
			int n = 0;
			for (char *p = line; n < 4;) {
				f[n++] = p;
				char *c = strchr(p, ':');
				if (c == NULL)
					break;
				*c = '\0';
				p = c + 1;
			}
			if (n < 4 || !all_digits(f[2]))
				continue;
			for (char *m = f[3], *ms = NULL, *tok = strtok_r(m, ",", &ms); tok;
			     tok = strtok_r(NULL, ",", &ms))
				if (strcmp(tok, uname) == 0 && strtoul(f[2], NULL, 10) != ids->gid) {
					ids->gids = xrealloc(ids->gids, (ids->n_gids + 1) * sizeof(unsigned));
					ids->gids[ids->n_gids++] = strtoul(f[2], NULL, 10);
				}
		}
	}
	return 0;
}

struct annot {
	const struct resolved *r;
};

static void kv(yajl_gen g, const char *k, const char *v)
{
	if (v && *v)
		rune_json_gen_kv_str(g, k, v);
}

static void gen_annotations(yajl_gen g, void *data)
{
	const struct resolved *r = ((struct annot *) data)->r;
	const struct image_config *c = &r->cfg;
	kv(g, "org.opencontainers.image.os", c->os);
	kv(g, "org.opencontainers.image.architecture", c->architecture);
	kv(g, "org.opencontainers.image.author", c->author);
	kv(g, "org.opencontainers.image.created", c->created);
	kv(g, "org.opencontainers.image.stopSignal", c->stop_signal);
	kv(g, "org.opencontainers.image.ref.name", r->name);
	kv(g, "org.opencontainers.image.manifest.digest", r->manifest_digest);
	if (YAJL_IS_OBJECT(c->exposed_ports) && c->exposed_ports->u.object.len) {
		cleanup_free char *ports = xstrdup("");
		for (size_t i = 0; i < c->exposed_ports->u.object.len; i++) {
			char *n = xasprintf("%s%s%s", ports, i ? "," : "", c->exposed_ports->u.object.keys[i]);
			free(ports);
			ports = n;
		}
		kv(g, "org.opencontainers.image.exposedPorts", ports);
	}
	for (size_t i = 0; YAJL_IS_OBJECT(c->labels) && i < c->labels->u.object.len; i++)
		if (YAJL_IS_STRING(c->labels->u.object.values[i]))
			rune_json_gen_kv_str(g, c->labels->u.object.keys[i], c->labels->u.object.values[i]->u.string);
}

int image_bundle_write_config(const struct resolved *r, const char *bundle, const char *rootfs, rune_error_t *err)
{
	const struct image_config *c = &r->cfg;
	struct ids ids;
	cleanup_strv char **args = NULL, **env = NULL;
	bool has_path = false;

	if (resolve_user(c->user, rootfs, &ids, err) < 0)
		return rune_error_wrap(err, "image %s", r->name);
	for (char **a = c->entrypoint; a && *a; a++)
		rune_strv_append(&args, *a);
	for (char **a = c->cmd; a && *a; a++)
		rune_strv_append(&args, *a);
	for (char **e = c->env; e && *e; e++) {
		rune_strv_append(&env, *e);
		has_path = has_path || strncmp(*e, "PATH=", 5) == 0;
	}
	if (!has_path)
		rune_strv_append(&env, SPEC_DEFAULT_PATH);
	if (args == NULL)
		args = xcalloc(1, sizeof(char *)); /* no command: the user must give one */
	struct spec_process p = { .args = (const char *const *) args,
		                  .env = (const char *const *) env,
		                  .cwd = c->working_dir,
		                  .uid = ids.uid,
		                  .gid = ids.gid,
		                  .gids = ids.gids,
		                  .n_gids = ids.n_gids };
	struct annot an = { .r = r };
	struct spec_opts o = { .process = &p, .annotations = gen_annotations, .data = &an };
	yajl_gen g = rune_json_gen_new(true, "\t");
	rune_spec_gen(g, &o);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	cleanup_free char *path = xasprintf("%s/config.json", bundle);
	int rc = rune_write_file_atomic(path, buf, len, 0644, err);
	yajl_gen_free(g);
	free(ids.gids);
	return rc;
}
