/* Runtime options and the task's rootfs. containerd hands options as a
 * google.protobuf.Any: the runc shim's containerd.runc.v1.Options (whose
 * binary_name, root, no_pivot_root, no_new_keyring and systemd_cgroup mean the
 * same for rune), or the CRI plugin's generic runtimeoptions.v1.Options; any
 * other type is refused by name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "cleanup.h"
#include "containerd/types/mount.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "json.h"
#include "log.h"
#include "options.pb-c.h"
#include "runtimeoptions.pb-c.h"
#include "shim.h"
#include "util.h"

#define OPTIONS_FILE "rune-shim-options"

static void set_str(char **dst, const char *src)
{
	if (src && *src) {
		free(*dst);
		*dst = xstrdup(src);
	}
}

/* The type URL's name: containerd writes bare names, others a prefix up to '/'. */
static const char *type_name(const char *url)
{
	const char *slash = strrchr(url, '/');
	return slash ? slash + 1 : url;
}

int shim_options_parse(const uint8_t *data, size_t len, struct shim_options *o, rune_error_t *err)
{
	Google__Protobuf__Any *any;
	int ret = 0;

	if (len == 0)
		return 0;
	any = google__protobuf__any__unpack(NULL, len, data);
	if (any == NULL)
		return rune_error(err, EINVAL, "runtime options: not a google.protobuf.Any");
	const char *name = type_name(any->type_url);
	if (strcmp(name, "containerd.runc.v1.Options") == 0) {
		Containerd__Runc__V1__Options *ro =
		    containerd__runc__v1__options__unpack(NULL, any->value.len, any->value.data);
		if (ro == NULL) {
			ret = rune_error(err, EINVAL, "runtime options %s: the message does not parse", any->type_url);
		} else {
			set_str(&o->binary, ro->binary_name);
			set_str(&o->root, ro->root);
			o->no_pivot = ro->no_pivot_root;
			o->no_new_keyring = ro->no_new_keyring;
			o->systemd_cgroup = ro->systemd_cgroup;
			containerd__runc__v1__options__free_unpacked(ro, NULL);
		}
	} else if (strcmp(name, "runtimeoptions.v1.Options") == 0) {
		Runtimeoptions__V1__Options *ro =
		    runtimeoptions__v1__options__unpack(NULL, any->value.len, any->value.data);
		if (ro == NULL)
			ret = rune_error(err, EINVAL, "runtime options %s: the message does not parse", any->type_url);
		else if (ro->config_path[0] || ro->config_body[0])
			log_info(
			    "runtime options: config_path %s ignored (rune takes its settings from the OCI config)",
			    ro->config_path);
		if (ro)
			runtimeoptions__v1__options__free_unpacked(ro, NULL);
	} else {
		ret = rune_error(err, EINVAL,
		                 "runtime options: unsupported type %.200s (want containerd.runc.v1.Options or "
		                 "runtimeoptions.v1.Options)",
		                 any->type_url);
	}
	google__protobuf__any__free_unpacked(any, NULL);
	return ret;
}

void shim_options_copy(struct shim_options *dst, const struct shim_options *src)
{
	*dst = *src;
	dst->binary = src->binary ? xstrdup(src->binary) : NULL;
	dst->root = src->root ? xstrdup(src->root) : NULL;
}

void shim_options_free(struct shim_options *o)
{
	free(o->binary);
	free(o->root);
	o->binary = o->root = NULL;
}

/* `delete` runs as a fresh process after the server may be gone: it finds
 * the binary and root the task was created with here. */
int shim_options_save(const char *bundle, const struct shim_options *o, rune_error_t *err)
{
	SHIM_NO_SIDE_EFFECTS_WHEN_FUZZING(err);
	cleanup_free char *path = xasprintf("%s/" OPTIONS_FILE, bundle);
	cleanup_free char *text = xasprintf("binary=%s\nroot=%s\nsystemd_cgroup=%d\n", o->binary ? o->binary : "",
	                                    o->root ? o->root : "", o->systemd_cgroup);

	if (strchr(o->binary ? o->binary : "", '\n') || strchr(o->root ? o->root : "", '\n'))
		return rune_error(err, EINVAL, "runtime options: a newline in binary_name or root");
	return rune_write_file_atomic(path, text, strlen(text), 0600, err);
}

void shim_options_load(const char *bundle, struct shim_options *o)
{
	cleanup_free char *path = xasprintf("%s/" OPTIONS_FILE, bundle);
	cleanup_free char *text = NULL;
	size_t len;
	rune_error_t err = NULL;

	if (rune_read_file(path, 8192, &text, &len, &err) < 0) {
		rune_error_release(&err);
		return;
	}
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "binary=", 7) == 0)
			set_str(&o->binary, line + 7);
		else if (strncmp(line, "root=", 5) == 0)
			set_str(&o->root, line + 5);
		else if (strcmp(line, "systemd_cgroup=1") == 0)
			o->systemd_cgroup = true;
	}
}

char *shim_rune_root(const struct shim_cfg *cfg, const struct shim_options *o)
{
	if (o->root && o->root[0])
		return xasprintf("%s/%s", o->root, cfg->ns);
	return xasprintf("/run/containerd/rune/%s", cfg->ns);
}

static const struct {
	const char *name;
	unsigned long set, clear;
} mount_flags[] = {
	{ "ro", MS_RDONLY, 0 },           { "rw", 0, MS_RDONLY },       { "nosuid", MS_NOSUID, 0 },
	{ "suid", 0, MS_NOSUID },         { "nodev", MS_NODEV, 0 },     { "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },       { "exec", 0, MS_NOEXEC },     { "bind", MS_BIND, 0 },
	{ "rbind", MS_BIND | MS_REC, 0 }, { "noatime", MS_NOATIME, 0 }, { "relatime", MS_RELATIME, 0 },
	{ "sync", MS_SYNCHRONOUS, 0 },    { "remount", MS_REMOUNT, 0 }, { "defaults", 0, 0 },
};

static int mount_one(const char *target, const Containerd__Types__Mount *m, rune_error_t *err)
{
	unsigned long flags = 0;
	cleanup_free char *data = xstrdup("");

	for (size_t i = 0; i < m->n_options; i++) {
		size_t k;
		for (k = 0; k < ARRAY_SIZE(mount_flags); k++)
			if (strcmp(m->options[i], mount_flags[k].name) == 0) {
				flags = (flags | mount_flags[k].set) & ~mount_flags[k].clear;
				break;
			}
		if (k == ARRAY_SIZE(mount_flags)) {
			char *more = xasprintf("%s%s%s", data, *data ? "," : "", m->options[i]);
			free(data);
			data = more;
		}
	}
	if (strlen(data) >= 4096)
		return rune_error(err, E2BIG, "rootfs mount %s: options longer than a page", m->type);
	if (strcmp(m->type, "bind") == 0)
		flags |= MS_BIND;
	if (mount(m->source, target, m->type, flags & ~(flags & MS_BIND ? MS_RDONLY : 0), *data ? data : NULL) < 0)
		return rune_error(err, errno, "mount rootfs (%s %s on %s)", m->type, m->source, target);
	/* A bind mount takes read-only only on a remount. */
	if ((flags & MS_BIND) && (flags & MS_RDONLY)
	    && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return rune_error(err, errno, "remount rootfs %s read-only", target);
	return 0;
}

int shim_mount_rootfs(const char *bundle, struct Containerd__Types__Mount **mounts, size_t n, rune_error_t *err)
{
	SHIM_NO_SIDE_EFFECTS_WHEN_FUZZING(err);
	cleanup_free char *target = xasprintf("%s/rootfs", bundle);

	if (n > 0 && rune_mkdir_p(target, 0711, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (mount_one(target, mounts[i], err) < 0) {
			shim_unmount_rootfs(bundle);
			return -1;
		}
	return 0;
}

void shim_unmount_rootfs(const char *bundle)
{
	cleanup_free char *target = xasprintf("%s/rootfs", bundle);

	for (int i = 0; i < 32 && umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) == 0; i++)
		;
}

char *shim_group_key(const char *config_json, const char *id)
{
	static const char *const keys[] = { "io.containerd.runc.v2.group", "io.kubernetes.cri.sandbox-id" };
	yajl_val config = NULL;
	rune_error_t err = NULL;
	char *key = NULL;

	if (rune_json_parse(config_json, "config.json", &config, &err) < 0) {
		rune_error_release(&err);
		return xstrdup(id);
	}
	yajl_val ann = rune_json_get(config, "annotations");
	for (size_t i = 0; i < ARRAY_SIZE(keys) && !key; i++) {
		yajl_val v = rune_json_get(ann, keys[i]);
		if (YAJL_IS_STRING(v) && YAJL_GET_STRING(v)[0])
			key = xstrdup(YAJL_GET_STRING(v));
	}
	yajl_tree_free(config);
	return key ? key : xstrdup(id);
}
