/* Enclave containers, the config side: which enclave a config asks for, and
 * what the host must offer before rune agrees to create it. */
#include "enclave.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "encoding.h"
#include "json.h"
#include "resources.h"
#include "loader.h"
#include "log.h"
#include "unixsock.h"
#include "util.h"

struct enclave_key {
	const char *env, *annotation;
};

static const struct enclave_key KEY_TYPE = { "ENCLAVE_TYPE", "enclave.type" };
static const struct enclave_key KEY_PATH = { "ENCLAVE_RUNTIME_PATH", "enclave.runtime.path" };
static const struct enclave_key KEY_ARGS = { "ENCLAVE_RUNTIME_ARGS", "enclave.runtime.args" };
static const struct enclave_key KEY_LOGLEVEL = { "ENCLAVE_RUNTIME_LOGLEVEL", "enclave.runtime.loglevel" };

/* env first, then the annotation; the value is copied. */
static int lookup(const struct rune_config *c, const struct enclave_key *k, char **out, rune_error_t *err)
{
	const char *v = c->has_process ? rune_env_lookup(c->process.env, k->env) : NULL;
	*out = NULL;
	if (v) {
		*out = xstrdup(v);
		return 0;
	}
	yajl_val a = c->annotations ? rune_json_get(c->annotations, k->annotation) : NULL;
	if (a == NULL)
		return 0;
	cleanup_free char *where = xasprintf("annotations[\"%s\"]", k->annotation);
	return rune_json_read_string(a, where, out, err);
}

char **librune_enclave_workload_env(char *const *env)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], "ENCLAVE_", 8) != 0)
			rune_strv_append(&out, env[i]);
	return out;
}

void librune_enclave_free(struct rune_enclave *e)
{
	if (e == NULL)
		return;
	free(e->type);
	free(e->path);
	free(e->args);
	free(e->loglevel);
	free(e);
}

/* Image mode (docs/confidential.md): annotations the enclave runtime gets as
 * arguments. rune only passes them on; the enclave attests, pulls and
 * verifies. */
static const char *annotation(const struct rune_config *c, const char *name)
{
	yajl_val a = c->annotations ? rune_json_get(c->annotations, name) : NULL;
	return YAJL_IS_STRING(a) ? YAJL_GET_STRING(a) : NULL;
}

/* A value that becomes one argument word: no blanks, no commas. */
static int plain_word(const char *name, const char *v, rune_error_t *err)
{
	if (v[0] == '\0' || strpbrk(v, " \t\n,"))
		return rune_error(err, EINVAL, "annotations[\"%s\"]: empty, or contains a blank or a comma", name);
	return 0;
}

static int image_args(const struct rune_config *c, char **args, rune_error_t *err)
{
	const char *image = annotation(c, "enclave.image"), *kbs = annotation(c, "enclave.kbs.url");
	const char *initdata = annotation(c, "enclave.initdata"), *tls = annotation(c, "enclave.image.registry-tls");
	/* Kata's form: base64 of gzip of the TOML, passed on as it is. */
	const char *kata = annotation(c, "io.katacontainers.config.hypervisor.cc_init_data");
	if (image == NULL && kbs == NULL && initdata == NULL && kata == NULL)
		return 0;
	if (kata && initdata == NULL && plain_word("io.katacontainers.config.hypervisor.cc_init_data", kata, err) < 0)
		return -1;
	if (image == NULL)
		image = annotation(c, "io.kubernetes.cri.image-name");
	if (image == NULL)
		return rune_error(err, EINVAL,
		                  "enclave.kbs.url or enclave.initdata is set but no image is named "
		                  "(enclave.image, or io.kubernetes.cri.image-name)");
	if (plain_word("enclave.image", image, err) < 0 || (kbs && plain_word("enclave.kbs.url", kbs, err) < 0))
		return -1;
	if (tls && strcmp(tls, "false") != 0 && strcmp(tls, "true") != 0)
		return rune_error(err, EINVAL, "annotations[\"enclave.image.registry-tls\"]: want true or false");
	cleanup_free char *b64 = initdata ? rune_base64_encode(initdata, strlen(initdata)) : NULL;
	const char *init_word = b64 ? " initdata=" : kata ? " initdata_gz=" : "";
	char *more = xasprintf("%s%simage=%s%s%s%s%s%s", *args, **args ? " " : "", image, kbs ? " kbs=" : "",
	                       kbs ? kbs : "", init_word,
	                       b64    ? b64
	                       : kata ? kata
	                              : "",
	                       tls && strcmp(tls, "false") == 0 ? " registry_tls=false" : "");
	free(*args);
	*args = more;
	return 0;
}

static const char *const KNOWN_TYPES[] = { "sim", "intelSgx", "AwsNitroEnclaves", "Jailhouse" };

int librune_enclave_config_parse(struct rune_config *c, rune_error_t *err)
{
	cleanup_free char *type = NULL, *path = NULL, *args = NULL, *level = NULL;
	/* A pod's annotations reach its sandbox too (containerd's pod_annotations):
	 * the sandbox holds the pod's namespaces and runs plainly. */
	const char *kind = annotation(c, "io.kubernetes.cri.container-type");
	if (kind && strcmp(kind, "sandbox") == 0)
		return 0;
	if (lookup(c, &KEY_TYPE, &type, err) < 0 || lookup(c, &KEY_PATH, &path, err) < 0
	    || lookup(c, &KEY_ARGS, &args, err) < 0 || lookup(c, &KEY_LOGLEVEL, &level, err) < 0)
		return -1;
	if (type == NULL || type[0] == '\0') {
		if (path && path[0])
			return rune_error(err, EINVAL,
			                  "enclave.runtime.path is set but enclave.type (ENCLAVE_TYPE) is not");
		return 0;
	}
	size_t i;
	for (i = 0; i < ARRAY_SIZE(KNOWN_TYPES); i++)
		if (strcmp(type, KNOWN_TYPES[i]) == 0)
			break;
	if (i == ARRAY_SIZE(KNOWN_TYPES))
		return rune_error(err, EINVAL,
		                  "enclave.type \"%s\": unknown (known: sim, intelSgx, AwsNitroEnclaves, Jailhouse)",
		                  type);
	if (path == NULL || path[0] == '\0')
		return rune_error(
		    err, EINVAL, "enclave.type is %s but enclave.runtime.path (ENCLAVE_RUNTIME_PATH) is not set", type);
	if (!c->has_process)
		return rune_error(err, EINVAL, "enclave.type is %s but the config has no process", type);
	struct rune_enclave *e = xcalloc(1, sizeof(*e));
	e->simulation = strcmp(type, "sim") == 0;
	e->type = take_ptr(type);
	e->path = take_ptr(path);
	e->args = args ? take_ptr(args) : xstrdup("");
	for (char *p = e->args; *p; p++)
		if (*p == ',')
			*p = ' ';
	if (image_args(c, &e->args, err) < 0) {
		librune_enclave_free(e);
		return -1;
	}
	e->loglevel = xstrdup(pal_runtime_log_level(level));
	c->enclave = e;
	return 0;
}

static const char *const SGX_DEVICES[] = { "/dev/sgx_enclave",   "/dev/sgx/enclave", "/dev/sgx_provision",
	                                   "/dev/sgx/provision", "/dev/isgx",        "/dev/gsgx" };

static bool host_has(const char *const *paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (access(paths[i], F_OK) == 0)
			return true;
	return false;
}

static void add_device(struct rune_config *c, const char *path, const struct stat *st)
{
	for (size_t i = 0; i < c->n_devices; i++)
		if (strcmp(c->devices[i].path, path) == 0)
			return;
	c->devices = xrealloc(c->devices, (c->n_devices + 1) * sizeof(*c->devices));
	c->devices[c->n_devices++] = (struct rune_device){ .path = xstrdup(path),
		                                           .type = 'c',
		                                           .major = major(st->st_rdev),
		                                           .minor = minor(st->st_rdev),
		                                           .has_mode = true,
		                                           .mode = st->st_mode & 0777 };
	/* A config that programs the devices controller gets the device allowed
	 * too: the enclave cannot run without it. */
	struct rune_resources *r = c->resources;
	if (r && r->has_devices) {
		r->devices = xrealloc(r->devices, (r->n_devices + 1) * sizeof(*r->devices));
		r->devices[r->n_devices++] =
		    (struct rune_device_rule){ true, 'c', major(st->st_rdev), minor(st->st_rdev), DEV_ACC_ALL };
	}
}

static int add_aesmd_mount(struct rune_config *c, rune_error_t *err)
{
	const char *aesmd = "/var/run/aesmd";
	struct stat st;
	if (stat(aesmd, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	for (size_t i = 0; i < c->n_mounts; i++)
		if (strcmp(c->mounts[i].destination, aesmd) == 0)
			return 0;
	c->mounts = xrealloc(c->mounts, (c->n_mounts + 1) * sizeof(*c->mounts));
	struct rune_mount *m = &c->mounts[c->n_mounts];
	memset(m, 0, sizeof(*m));
	m->destination = xstrdup(aesmd);
	m->source = xstrdup(aesmd);
	m->type = xstrdup("bind");
	rune_strv_append(&m->options, "rbind");
	rune_strv_append(&m->options, "rprivate");
	if (librune_mount_options_parse(m, "enclave aesmd mount", err) < 0)
		return -1;
	c->n_mounts++;
	return 0;
}

int librune_enclave_check_host(const struct rune_enclave *e, rune_error_t *err)
{
	static const char *const nitro[] = { "/dev/nitro_enclaves" };
	static const char *const jailhouse[] = { "/dev/jailhouse" };

	if (e == NULL)
		return 0;
	if (strcmp(e->type, "intelSgx") == 0 && !host_has(SGX_DEVICES, ARRAY_SIZE(SGX_DEVICES)))
		return rune_error(err, ENODEV,
		                  "enclave.type intelSgx: this host has no SGX device (/dev/sgx_enclave, "
		                  "/dev/sgx/enclave, /dev/isgx); use enclave.type sim to run without protection");
	if (strcmp(e->type, "AwsNitroEnclaves") == 0 && !host_has(nitro, ARRAY_SIZE(nitro)))
		return rune_error(err, ENODEV, "enclave.type AwsNitroEnclaves: this host has no /dev/nitro_enclaves");
	if (strcmp(e->type, "Jailhouse") == 0 && !host_has(jailhouse, ARRAY_SIZE(jailhouse)))
		return rune_error(err, ENODEV, "enclave.type Jailhouse: this host has no /dev/jailhouse");
	if (pal_runtime_check_file(e->path, err) < 0)
		return rune_error_wrap(err, "enclave.runtime.path");
	if (e->simulation)
		rune_log(RUNE_LOG_WARNING, "enclave type sim: %s", ENCLAVE_SIMULATION_WARNING);
	return 0;
}

int librune_enclave_add_host_devices(struct rune_config *c, rune_error_t *err)
{
	if (c->enclave == NULL || strcmp(c->enclave->type, "intelSgx") != 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(SGX_DEVICES); i++) {
		struct stat st;
		if (stat(SGX_DEVICES[i], &st) == 0 && S_ISCHR(st.st_mode))
			add_device(c, SGX_DEVICES[i], &st);
	}
	return add_aesmd_mount(c, err);
}

int librune_enclave_msg_send(int sock, int type, int value, const char *text, const int *fds, size_t nfds,
                             rune_error_t *err)
{
	size_t tlen = text ? strlen(text) : 0;
	cleanup_free char *buf = xmalloc(8 + tlen);
	memcpy(buf, &type, 4);
	memcpy(buf + 4, &value, 4);
	if (tlen)
		memcpy(buf + 8, text, tlen);
	return rune_send_msg(sock, buf, 8 + tlen, fds, nfds, "a message on the enclave socket", err);
}

int librune_enclave_msg_recv(int sock, int *type, int *value, char **text, int *fds, size_t *nfds, rune_error_t *err)
{
	size_t size, n;
	*nfds = 0;
	/* Size the buffer to the message waiting (SEQPACKET keeps boundaries). */
	if (rune_peek_msg_size(sock, &size, "the enclave socket", err) < 0)
		return -1;
	if (size > ENCLAVE_MSG_MAX)
		size = ENCLAVE_MSG_MAX + 1; /* received and refused as too long below */
	cleanup_free char *buf = xmalloc(size + 1);
	if (rune_recv_msg(sock, buf, size, &n, fds, nfds, "a message on the enclave socket", err) < 0)
		return -1;
	if (n == 0 && *nfds == 0) {
		*type = 0;
		*value = 0;
		if (text)
			*text = NULL;
		return 0;
	}
	if (n < 8 || n > ENCLAVE_MSG_MAX) {
		for (size_t i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return rune_error(err, EPROTO, "enclave connection: malformed message (%zu bytes)", n);
	}
	memcpy(type, buf, 4);
	memcpy(value, buf + 4, 4);
	buf[n] = '\0';
	if (text)
		*text = xstrdup(buf + 8);
	return 0;
}
