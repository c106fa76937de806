/* liberpal-sim: the simulation enclave runtime (PAL API v3). It needs no TEE
 * hardware and gives no hardware protection, and says so. What it does give:
 * the workload runs in an enclave-like box — a private mount namespace with a
 * read-only root and nothing the workload does not need, a seccomp filter
 * against inspecting or escaping the box, a non-dumpable host process — and a
 * measurement of what was loaded that pal_get_local_report returns in an
 * SGX-format report marked DEBUG. */
#include <ctype.h>
#include <stdarg.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "pal.h"
#include "palproc.h"
#include "sim.h"

#define PAL_EXPORT __attribute__((visibility("default")))

static struct {
	bool initialized;
	char *args;
	struct sim_config cfg;
	struct sock_fprog filter;
	unsigned char mr[32];
	struct sim_image_config image_cfg;
	struct sim_image image; /* image mode: image.rootfs[0] != 0 */
} S;

static int parse_hex(const char *hex, unsigned char out[64])
{
	size_t n = strlen(hex);
	if (n == 0 || n % 2 || n > 128)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !isxdigit((unsigned char) hex[2 * i])
		    || !isxdigit((unsigned char) hex[2 * i + 1]))
			return -EINVAL;
		out[i] = (unsigned char) v;
	}
	return 0;
}

/* args: space-separated words (rune turns commas into spaces):
 * measure=PATH (repeatable), writable, sys, config_id=HEX (up to 64 bytes,
 * the init-data digest quotes bind). */
static int parse_args(char *args, struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (char *save = NULL, *w = strtok_r(args, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (strncmp(w, "measure=", 8) == 0 && w[8] == '/') {
			if (cfg->n_measure == SIM_MAX_MEASURE) {
				pal_log(PAL_LOG_ERROR, "at most %d measure= arguments", SIM_MAX_MEASURE);
				return -E2BIG;
			}
			cfg->measure[cfg->n_measure++] = w + 8;
		} else if (strcmp(w, "writable") == 0) {
			cfg->writable = true;
		} else if (strcmp(w, "sys") == 0) {
			cfg->keep_sys = true;
		} else if (strncmp(w, "image=", 6) == 0 && w[6]) {
			S.image_cfg.ref = w + 6;
		} else if (strncmp(w, "kbs=", 4) == 0 && w[4]) {
			S.image_cfg.kbs = w + 4;
		} else if (strncmp(w, "initdata=", 9) == 0 && w[9]) {
			S.image_cfg.initdata_b64 = w + 9;
		} else if (strncmp(w, "initdata_gz=", 12) == 0 && w[12]) {
			S.image_cfg.initdata_gz_b64 = w + 12;
		} else if (strcmp(w, "registry_tls=false") == 0) {
			S.image_cfg.insecure_registry = true;
		} else if (strncmp(w, "config_id=", 10) == 0) {
			if (parse_hex(w + 10, cfg->config_id) < 0) {
				pal_log(PAL_LOG_ERROR, "config_id= wants up to 64 bytes in hex, not \"%s\"", w + 10);
				return -EINVAL;
			}
		} else {
			pal_log(PAL_LOG_ERROR,
			        "unknown argument \"%s\" (want measure=/PATH, writable, sys, config_id=HEX)", w);
			return -EINVAL;
		}
	}
	if (cfg->n_measure == 0)
		cfg->measure[cfg->n_measure++] = "/";
	return 0;
}

/* args without the words that configure rather than make the enclave
 * (config_id=, and image mode's image=, kbs=, initdata=, registry_tls=). */
static bool configures(const char *w)
{
	static const char *const prefixes[] = { "config_id=", "image=",       "kbs=",
		                                "initdata=",  "initdata_gz=", "registry_tls=" };
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(w, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static char *measured_args(const char *args)
{
	char *out = calloc(1, strlen(args) + 1), *copy = strdup(args);
	if (out == NULL || copy == NULL) {
		free(out);
		free(copy);
		return NULL;
	}
	for (char *save = NULL, *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (!configures(w)) {
			if (*out)
				strcat(out, " ");
			strcat(out, w);
		}
	free(copy);
	return out;
}

/* The in-enclave agent (liberpal-sim-agent.so, beside this file): loaded
 * only for image mode, by pal_preload, while the host's libraries are still
 * reachable; a plain simulation enclave never pays for it. */
static struct {
	void *dl;
	int (*prepare)(const struct sim_image_config *cfg, struct sim_image *out);
	void (*release)(struct sim_image *img);
	int (*config_id)(const struct sim_image_config *cfg, unsigned char out[64]);
} agent;

static void agent_log(int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pal_log((enum pal_log_level) level, "%s", msg);
}

PAL_EXPORT int pal_preload(const char *args)
{
	Dl_info self;
	char path[4096];
	bool image = false;
	for (const char *w = args; w && *w; w += strcspn(w, " \t"), w += strspn(w, " \t"))
		image |= strncmp(w, "image=", 6) == 0;
	if (!image || agent.dl)
		return 0;
	if (dladdr((void *) pal_preload, &self) == 0 || self.dli_fname == NULL)
		return -ENOENT;
	const char *slash = strrchr(self.dli_fname, '/');
	snprintf(path, sizeof(path), "%.*sliberpal-sim-agent.so", slash ? (int) (slash - self.dli_fname + 1) : 0,
	         self.dli_fname);
	agent.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (agent.dl == NULL) {
		pal_log_setup("liberpal-sim", "error");
		pal_log(PAL_LOG_ERROR, "image mode needs %s: %s", path, dlerror());
		return -ENOENT;
	}
	/* dlsym hands back object pointers; sim.h declares what they are. */
	agent.prepare =
	    (int (*)(const struct sim_image_config *, struct sim_image *)) dlsym(agent.dl, "sim_image_prepare");
	agent.release = (void (*)(struct sim_image *)) dlsym(agent.dl, "sim_image_release");
	agent.config_id =
	    (int (*)(const struct sim_image_config *, unsigned char *)) dlsym(agent.dl, "sim_initdata_config_id");
	if (!agent.prepare || !agent.release || !agent.config_id) {
		pal_log(PAL_LOG_ERROR, "%s lacks the agent's entry points", path);
		return -ENOENT;
	}
	return 0;
}

/* Why the last call failed, for pal_last_error; outlives reset(). */
static char last_error_kept[1024];

static void reset(void)
{
	if (agent.release)
		agent.release(&S.image);
	free(S.args);
	free(S.filter.filter);
	memset(&S, 0, sizeof(S));
}

PAL_EXPORT int pal_get_version(void)
{
	return 3;
}

PAL_EXPORT int pal_init(const struct pal_attr_v3_t *attr)
{
	struct timespec t0, t1;
	char hex[65];
	int r;

	if (attr == NULL)
		return -EINVAL;
	if (S.initialized)
		return -EBUSY;
	pal_log_setup("liberpal-sim", attr->attr_v1.log_level);
	pal_log(PAL_LOG_WARNING, "SIMULATION MODE: no TEE hardware is used; the workload's memory and code "
	                         "are NOT protected from the host. For development and testing only.");
	if (attr->fd >= 0) {
		pal_log(PAL_LOG_ERROR, "a pre-created enclave (fd %d) cannot be adopted by a simulation", attr->fd);
		return -ENOTSUP;
	}
	const char *args = attr->attr_v1.args ? attr->attr_v1.args : "";
	S.args = strdup(args);
	char *words = strdup(args);
	if (S.args == NULL || words == NULL) {
		free(words);
		reset();
		return -ENOMEM;
	}
	r = parse_args(words, &S.cfg);
	if (r == 0)
		r = sim_enter_enclave_fs(&S.cfg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Image mode binds the init-data digest, as a TEE's config-id field. */
	if (r == 0 && (S.image_cfg.initdata_b64 || S.image_cfg.initdata_gz_b64)) {
		unsigned char id[64];
		S.image_cfg.log = agent_log;
		r = agent.config_id ? agent.config_id(&S.image_cfg, id) : -ENOSYS;
		if (r == 0 && memcmp(S.cfg.config_id, (unsigned char[64]){ 0 }, 64) != 0
		    && memcmp(S.cfg.config_id, id, 64) != 0) {
			pal_log(PAL_LOG_ERROR, "config_id= and the init-data's digest differ");
			r = -EINVAL;
		}
		if (r == 0)
			memcpy(S.cfg.config_id, id, 64);
	}
	/* config_id is bound beside the measurement, as SGX's CONFIGID is
	 * beside MRENCLAVE: the same code with other init-data measures the same. */
	char *measured = r == 0 ? measured_args(S.args) : NULL;
	if (r == 0)
		r = measured ? sim_measure(&S.cfg, measured, S.mr) : -ENOMEM;
	free(measured);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == 0)
		r = sim_build_filter(&S.filter);
	/* Without a writable /dev (a read-only one, or a bare chroot) the
	 * enclave runs, without /dev/attestation: attesting then fails, naming it. */
	if (r == 0 && sim_attestation_start(S.mr, S.cfg.config_id) < 0)
		pal_log(PAL_LOG_WARNING, "the enclave has no /dev/attestation: its workload cannot attest");
	/* Image mode: the enclave itself attests and pulls, before the workload. */
	if (r == 0 && S.image_cfg.ref) {
		S.image_cfg.log = agent_log;
		r = agent.prepare ? agent.prepare(&S.image_cfg, &S.image) : -ENOSYS;
	}
	if (r == 0 && S.image.rootfs[0]) {
		static struct palproc_root root;
		root = (struct palproc_root){ .path = "/",
			                      .cwd = S.image.cwd,
			                      .set_ids = S.image.uid != getuid() || S.image.gid != getgid(),
			                      .uid = S.image.uid,
			                      .gid = S.image.gid };
		palproc_set_root(&root);
	}
	snprintf(last_error_kept, sizeof(last_error_kept), "%s", S.image_cfg.error);
	memset(&S.image_cfg, 0, sizeof(S.image_cfg)); /* it pointed into the argument words */
	/* The enclave's state lives in this process: keep it from ptrace and /proc. */
	if (r == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		r = -errno;
	free(words);
	if (r < 0) {
		if (!last_error_kept[0])
			pal_log(PAL_LOG_ERROR, "pal_init failed: %s", strerror(-r));
		sim_attestation_stop();
		reset();
		return r;
	}
	for (size_t i = 0; i < ARRAY_SIZE(S.mr); i++)
		snprintf(hex + 2 * i, 3, "%02x", S.mr[i]);
	pal_log(PAL_LOG_INFO, "enclave measurement %s (%.1f ms)", hex,
	        (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	palproc_configure(&S.filter);
	S.initialized = true;
	return 0;
}

/* Image mode: the image's env under the container's (the container's
 * value wins for a name both set). */
static const char **merged_env(const char **env)
{
	size_t n = 0, k = 0;
	for (char **e = S.image.env; e && *e; e++)
		n++;
	for (const char **e = env; e && *e; e++)
		n++;
	const char **out = calloc(n + 1, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (const char **e = env; e && *e; e++)
		out[k++] = *e;
	for (char **e = S.image.env; e && *e; e++) {
		size_t name = strcspn(*e, "=");
		bool shadowed = false;
		for (const char **c = env; c && *c && !shadowed; c++)
			shadowed = strncmp(*c, *e, name) == 0 && (*c)[name] == '=';
		if (!shadowed)
			out[k++] = *e;
	}
	return out;
}

PAL_EXPORT int pal_create_process(struct pal_create_process_args *args)
{
	if (!S.initialized || args == NULL)
		return -EINVAL;
	if (!S.image.rootfs[0])
		return palproc_create(args->path, args->argv, args->env, args->stdio, args->pid);
	/* The container's args override the image's entrypoint and cmd, as CRI
	 * does; an empty first word asks for the image's. */
	const char **argv = args->argv && args->argv[0] && args->argv[0][0] ? args->argv : (const char **) S.image.args;
	if (argv == NULL || argv[0] == NULL) {
		pal_log(PAL_LOG_ERROR, "the image names no entrypoint or cmd, and the container no args");
		return -EINVAL;
	}
	const char **env = merged_env(args->env);
	if (env == NULL)
		return -ENOMEM;
	int r = palproc_create(argv[0], argv, env, args->stdio, args->pid);
	free(env);
	return r;
}

PAL_EXPORT int pal_exec(struct pal_exec_args *args)
{
	if (!S.initialized || args == NULL)
		return -EINVAL;
	return palproc_exec(args->pid, args->exit_value);
}

/* For `rune state`: what this enclave runs, in image mode. JSON by hand:
 * the strings are a reference, a digest, a URI and a URL, escaped anyway. */
static void json_str(char **o, const char *end, const char *s)
{
	*o += snprintf(*o, (size_t) (end - *o), "\"");
	for (; *s && end - *o > 8; s++)
		*o += (*s == '"' || *s == '\\')   ? snprintf(*o, (size_t) (end - *o), "\\%c", *s)
		      : (unsigned char) *s < 0x20 ? snprintf(*o, (size_t) (end - *o), "\\u%04x", *s)
		                                  : snprintf(*o, (size_t) (end - *o), "%c", *s);
	*o += snprintf(*o, (size_t) (end - *o), "\"");
}

PAL_EXPORT int pal_last_error(char *buf, int len)
{
	if (buf == NULL || len < 1)
		return -EINVAL;
	snprintf(buf, (size_t) len, "%s", last_error_kept);
	return 0;
}

PAL_EXPORT int pal_get_info(char *buf, int len)
{
	if (!S.initialized || buf == NULL || len < 1024)
		return -EINVAL;
	if (!S.image.rootfs[0]) {
		buf[0] = '\0';
		return 0;
	}
	char *o = buf, *end = buf + len;
	const char *keys[] = { "image", "manifestDigest", "policy", "kbs" };
	const char *vals[] = { S.image.reference, S.image.manifest_digest, S.image.policy, S.image.kbs };
	o += snprintf(o, (size_t) (end - o), "{");
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		o += snprintf(o, (size_t) (end - o), "%s\"%s\":", i ? "," : "", keys[i]);
		json_str(&o, end, vals[i]);
	}
	snprintf(o, (size_t) (end - o), ",\"policyResult\":\"accepted\"}");
	return 0;
}

PAL_EXPORT int pal_kill(int pid, int sig)
{
	if (!S.initialized)
		return -EINVAL;
	return palproc_kill(pid, sig);
}

PAL_EXPORT int pal_get_local_report(void *targetinfo, int targetinfo_len, void *report, int *report_len)
{
	if (!S.initialized)
		return -EINVAL;
	if (targetinfo == NULL || targetinfo_len < PAL_SGX_TARGETINFO_SIZE || report == NULL || report_len == NULL)
		return -EINVAL;
	if (*report_len < PAL_SGX_REPORT_SIZE) {
		*report_len = PAL_SGX_REPORT_SIZE;
		return -ENOSPC;
	}
	sim_fill_report(S.mr, report);
	*report_len = PAL_SGX_REPORT_SIZE;
	return 0;
}

PAL_EXPORT int pal_destroy(void)
{
	if (!S.initialized)
		return -EINVAL;
	palproc_configure(NULL);
	palproc_set_root(NULL);
	palproc_destroy();
	sim_attestation_stop();
	reset();
	return 0;
}
