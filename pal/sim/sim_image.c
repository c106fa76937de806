/* Image mode: the in-enclave agent. When the container names an image, the
 * enclave (this PAL, inside its private mount namespace) attests to the KBS,
 * fetches the owner's signature policy and credentials as KBS resources,
 * resolves and verifies the image, unwraps the layer keys the KBS releases,
 * and pulls, decrypts and unpacks it into a memory-backed mount that only
 * this enclave's mount namespace has. The workload then runs chrooted into
 * that rootfs. Nothing of the image touches the host's filesystem.
 *
 * This is the one file of the PAL that sees libruneimage and libruneattest
 * (docs/architecture.md): the agent that assembles both lives in the enclave
 * runtime, as it would in a LibOS. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "attest.h"
#include "cleanup.h"
#include "encoding.h"
#include "image.h"
#include "initdata.h"
#include "json.h"
#include "pal.h"
#include "palproc.h"
#include "sim.h"
#include "toml.h"
#include "util.h"

#define AA_PROVIDER "provider.attestation-agent"

/* Where the image's tmpfs is mounted: under the enclave's private /tmp, or
 * under /dev (a container's is a writable tmpfs) when the boot rootfs has
 * no /tmp. Either way only this mount namespace has it. */
static char image_dir[32], store_dir[48], bundle_dir[48], auth_file[48];
#define IMAGE_DIR  image_dir
#define STORE_DIR  store_dir
#define BUNDLE_DIR bundle_dir
#define AUTH_FILE  auth_file

struct agent {
	const struct sim_image_config *cfg;
	char *kbs_url;
	struct attest_ctx *attest;
	json_t *cdh_image; /* cdh.toml's [image], or NULL */
};

/* kbs:///… through the KBS, file://… or a path inside the enclave. */
static int fetch_uri(struct agent *a, const char *uri, size_t max, char **data, size_t *len, rune_error_t *err)
{
	if (strncmp(uri, "kbs:", 4) == 0) {
		unsigned char *d = NULL;
		if (attest_get_resource(a->attest, uri, max, &d, len, err) < 0)
			return -1;
		*data = (char *) d;
		return 0;
	}
	return rune_read_file(strncmp(uri, "file://", 7) == 0 ? uri + 7 : uri, max, data, len, err);
}

static int read_file_cb(const char *path, size_t max, char **data, size_t *len, void *arg, rune_error_t *err)
{
	return fetch_uri(arg, path, max, data, len, err);
}

static int unwrap_cb(const char *scheme, const void *wrapped, size_t len, char **opts, size_t *opts_len, void *arg,
                     rune_error_t *err)
{
	struct agent *a = arg;
	unsigned char *o = NULL;
	if (strcmp(scheme, AA_PROVIDER) != 0)
		return 0;
	if (attest_unwrap_annotation_packet(a->attest, wrapped, len, &o, opts_len, err) < 0)
		return -1;
	*opts = (char *) o;
	return 1;
}

#define INITDATA_MAX (1 << 20)

/* The init-data TOML from initdata= (base64) or initdata_gz= (base64 of gzip,
 * as Kata's io.katacontainers.config.hypervisor.cc_init_data carries it). */
static int decode_initdata(const struct sim_image_config *cfg, unsigned char **toml, size_t *len, rune_error_t *err)
{
	const char *b64 = cfg->initdata_b64 ? cfg->initdata_b64 : cfg->initdata_gz_b64;
	cleanup_free unsigned char *raw = NULL;
	size_t n = 0;
	*toml = NULL;
	*len = 0;
	if (b64 == NULL)
		return 0;
	if (!rune_base64_decode(b64, strlen(b64), &raw, &n))
		return rune_error(err, 0, "init-data: not base64");
	if (cfg->initdata_b64) {
		*toml = take_ptr(raw);
		*len = n;
		return 0;
	}
	z_stream z = { .next_in = raw, .avail_in = (uInt) n };
	unsigned char *out = xmalloc(INITDATA_MAX + 1);
	z.next_out = out;
	z.avail_out = INITDATA_MAX;
	int zr = inflateInit2(&z, 16 + MAX_WBITS) == Z_OK ? inflate(&z, Z_FINISH) : Z_DATA_ERROR;
	inflateEnd(&z);
	if (zr != Z_STREAM_END) {
		free(out);
		return rune_error(err, 0, "init-data (cc_init_data): %s",
		                  zr == Z_BUF_ERROR ? "larger than 1 MiB unpacked" : "not gzip");
	}
	*len = INITDATA_MAX - z.avail_out;
	out[*len] = '\0';
	*toml = out;
	return 0;
}

/* The policy accepted the image: bind its digest into the evidence before
 * any layer key is asked for, so the KBS can release keys for it alone. */
static int verified_cb(const char *reference, const char *manifest_digest, void *arg, rune_error_t *err)
{
	struct agent *a = arg;
	return attest_bind_image(a->attest, reference, manifest_digest, err);
}

/* The init-data document: its KBS URL (aa.toml) and cdh.toml's [image]. */
static int read_initdata(struct agent *a, const char *toml, size_t n, char **kbs_url, rune_error_t *err)
{
	json_t *doc = NULL, *aa = NULL, *cdh = NULL;
	if (attest_initdata_parse(toml, n, &doc, err) < 0)
		return -1;
	json_t *data = json_object_get(doc, "data");
	const char *aa_text = json_string_value(json_object_get(data, "aa.toml"));
	const char *cdh_text = json_string_value(json_object_get(data, "cdh.toml"));
	int rc = 0;
	if (aa_text && attest_toml_parse(aa_text, strlen(aa_text), "init-data aa.toml", &aa, err) < 0)
		rc = -1;
	if (rc == 0 && cdh_text && attest_toml_parse(cdh_text, strlen(cdh_text), "init-data cdh.toml", &cdh, err) < 0)
		rc = -1;
	if (rc == 0) {
		const char *url = json_string_value(
		    json_object_get(json_object_get(json_object_get(aa, "token_configs"), "kbs"), "url"));
		if (url == NULL)
			url = json_string_value(json_object_get(json_object_get(cdh, "kbc"), "url"));
		if (url && *kbs_url == NULL)
			*kbs_url = xstrdup(url);
		a->cdh_image = json_incref(json_object_get(cdh, "image"));
	}
	json_decref(doc);
	json_decref(aa);
	json_decref(cdh);
	return rc;
}

static const char *cdh(struct agent *a, const char *key)
{
	return json_string_value(json_object_get(a->cdh_image, key));
}

/* The memory-backed mount the image lives in, private to this namespace. */
static int make_image_mount(rune_error_t *err)
{
	struct stat st;
	snprintf(image_dir, sizeof(image_dir), "%s",
	         stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode) ? "/tmp/rune-image" : "/dev/rune-image");
	snprintf(store_dir, sizeof(store_dir), "%s/store", image_dir);
	snprintf(bundle_dir, sizeof(bundle_dir), "%s/bundle", image_dir);
	snprintf(auth_file, sizeof(auth_file), "%s/auth.json", image_dir);
	if (mkdir(IMAGE_DIR, 0700) < 0 && errno != EEXIST)
		return rune_error(err, errno, "mkdir %s", IMAGE_DIR);
	if (mount("tmpfs", IMAGE_DIR, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		return rune_error(err, errno, "mount a tmpfs on %s", IMAGE_DIR);
	if (mkdir(STORE_DIR, 0700) < 0)
		return rune_error(err, errno, "mkdir %s", STORE_DIR);
	return 0;
}

static int agent_run(struct agent *a, struct image_result *res, rune_error_t *err)
{
	const struct sim_image_config *cfg = a->cfg;
	cleanup_free unsigned char *toml = NULL;
	cleanup_free char *kbs_url = cfg->kbs ? xstrdup(cfg->kbs) : NULL;
	cleanup_free char *policy = NULL, *regd = NULL, *auth = NULL;
	size_t toml_len = 0, policy_len = 0, regd_len = 0, auth_len = 0;
	if (decode_initdata(cfg, &toml, &toml_len, err) < 0)
		return -1;
	if (toml && read_initdata(a, (char *) toml, toml_len, &kbs_url, err) < 0)
		return -1;
	struct attest_options ao = { .url = kbs_url, .initdata = (char *) toml, .initdata_len = toml_len };
	a->kbs_url = kbs_url ? xstrdup(kbs_url) : NULL;
	if (attest_ctx_new(&ao, &a->attest, err) < 0)
		return rune_error_wrap(err, "attest");
	/* The owner's policy decides; without one nothing runs. */
	const char *policy_uri = cdh(a, "image_security_policy_uri");
	if (policy_uri == NULL)
		return rune_error(err, 0,
		                  "policy: init-data's cdh.toml sets no [image] image_security_policy_uri: an "
		                  "enclave runs no image without its owner's signature policy");
	if (fetch_uri(a, policy_uri, 1 << 20, &policy, &policy_len, err) < 0)
		return rune_error_wrap(err, "policy %s", policy_uri);
	if (cdh(a, "sigstore_config_uri")
	    && fetch_uri(a, cdh(a, "sigstore_config_uri"), 1 << 20, &regd, &regd_len, err) < 0)
		return rune_error_wrap(err, "sigstore_config_uri %s", cdh(a, "sigstore_config_uri"));
	const char *cred_uri = cdh(a, "authenticated_registry_credentials_uri");
	if (cred_uri
	    && (fetch_uri(a, cred_uri, 1 << 20, &auth, &auth_len, err) < 0
	        || rune_write_file_atomic(AUTH_FILE, auth, auth_len, 0600, err) < 0))
		return rune_error_wrap(err, "registry credentials %s", cred_uri);
	/* extra_root_certificates: CAs (PEM) a registry's certificate may chain
	 * to, besides the enclave's own. */
	cleanup_free char *cert_dir = NULL;
	json_t *certs = json_object_get(a->cdh_image, "extra_root_certificates"), *pem;
	size_t i;
	if (json_array_size(certs) > 0) {
		cert_dir = xasprintf("%s/certs", IMAGE_DIR);
		if (mkdir(cert_dir, 0700) < 0 && errno != EEXIST)
			return rune_error(err, errno, "mkdir %s", cert_dir);
	}
	json_array_foreach(certs, i, pem)
	{
		cleanup_free char *f = xasprintf("%s/extra-%zu.crt", cert_dir, i);
		if (!json_is_string(pem))
			return rune_error(err, 0, "cdh.toml: image.extra_root_certificates[%zu] is not a string", i);
		if (rune_write_file_atomic(f, json_string_value(pem), json_string_length(pem), 0644, err) < 0)
			return -1;
	}
	json_t *par = json_object_get(a->cdh_image, "max_concurrent_layer_downloads_per_image");
	struct image_opts o = {
		.root = STORE_DIR,
		.parallel = json_is_integer(par) ? (int) json_integer_value(par) : 0,
		.access = { .tls_verify = cfg->insecure_registry ? 0 : -1,
		            .authfile = cred_uri ? AUTH_FILE : NULL,
		            .cert_dir = cert_dir },
		.trust = { .policy = policy_uri,
		           .policy_data = policy,
		           .policy_len = policy_len,
		           .registries_d_data = regd,
		           .registries_d_len = regd_len,
		           .read_file = read_file_cb,
		           .read_file_arg = a },
		.unwrap_key = unwrap_cb,
		.unwrap_key_arg = a,
		.on_verified = verified_cb,
		.on_verified_arg = a,
	};
	struct image_ctx *ic = NULL;
	if (image_ctx_new(&o, &ic, err) < 0)
		return -1;
	int rc = image_unpack(ic, cfg->ref, BUNDLE_DIR, false, res, err);
	image_ctx_free(ic);
	return rc;
}

/* The image's process from the bundle rune-image wrote: args, env, cwd, user. */
static int image_process(struct sim_image *out, rune_error_t *err)
{
	yajl_val cfg = NULL;
	cleanup_free char *path = xasprintf("%s/config.json", BUNDLE_DIR);
	if (rune_json_parse_file(path, 1 << 20, &cfg, err) < 0)
		return -1;
	yajl_val p = rune_json_get(cfg, "process");
	yajl_val user = rune_json_get(p, "user");
	int64_t uid = 0, gid = 0;
	int rc = rune_json_read_strv(rune_json_get(p, "args"), "process.args", &out->args, NULL, err);
	if (rc == 0)
		rc = rune_json_read_strv(rune_json_get(p, "env"), "process.env", &out->env, NULL, err);
	if (rc == 0)
		rc = rune_json_read_string(rune_json_get(p, "cwd"), "process.cwd", &out->cwd, err);
	if (rc == 0)
		rc = rune_json_read_int64(rune_json_get(user, "uid"), "process.user.uid", &uid, err);
	if (rc == 0)
		rc = rune_json_read_int64(rune_json_get(user, "gid"), "process.user.gid", &gid, err);
	out->uid = (unsigned) uid;
	out->gid = (unsigned) gid;
	yajl_tree_free(cfg);
	return rc;
}

/* Make the image the enclave's root while this process still holds the
 * privileges pal_init runs with (the workload's processes will not): the
 * enclave's /dev (with /dev/attestation) and /proc are bound into it, then
 * this process, the enclave's host, changes root, and every process it
 * starts inherits it. */
static int enter_image_root(const char *rootfs, rune_error_t *err)
{
	static const char *const binds[] = { "/dev", "/proc" };
	for (size_t i = 0; i < ARRAY_SIZE(binds); i++) {
		cleanup_free char *target = xasprintf("%s%s", rootfs, binds[i]);
		struct stat st;
		if (lstat(target, &st) == 0 && !S_ISDIR(st.st_mode))
			return rune_error(err, 0, "the image's %s is not a directory", binds[i]);
		if (mkdir(target, 0755) < 0 && errno != EEXIST)
			return rune_error(err, errno, "mkdir %s in the image", binds[i]);
		if (mount(binds[i], target, NULL, MS_BIND | MS_REC, NULL) < 0)
			return rune_error(err, errno, "bind %s into the image", binds[i]);
	}
	if (chroot(rootfs) < 0 || chdir("/") < 0)
		return rune_error(err, errno, "enter the image's root %s", rootfs);
	return 0;
}

__attribute__((visibility("default"))) int sim_image_prepare(const struct sim_image_config *cfg, struct sim_image *out)
{
	struct agent a = { .cfg = cfg };
	struct image_result res = { 0 };
	cleanup_error rune_error_t err = NULL;
	memset(out, 0, sizeof(*out));
	int rc = make_image_mount(&err);
	if (rc == 0)
		rc = agent_run(&a, &res, &err);
	if (rc == 0)
		rc = image_process(out, &err);
	if (rc == 0) {
		snprintf(out->rootfs, sizeof(out->rootfs), "%s/rootfs", BUNDLE_DIR);
		rc = enter_image_root(out->rootfs, &err);
	}
	if (rc == 0) {
		snprintf(out->manifest_digest, sizeof(out->manifest_digest), "%s",
		         res.manifest_digest ? res.manifest_digest : "");
		snprintf(out->reference, sizeof(out->reference), "%s", res.reference ? res.reference : cfg->ref);
		snprintf(out->policy, sizeof(out->policy), "%s", cdh(&a, "image_security_policy_uri"));
		snprintf(out->kbs, sizeof(out->kbs), "%s", a.kbs_url ? a.kbs_url : "");
		cfg->log(PAL_LOG_INFO, "image %s (%s) verified, decrypted and unpacked inside the enclave", cfg->ref,
		         out->manifest_digest);
	} else {
		/* One line naming the step, for rune to print as its error. */
		snprintf(((struct sim_image_config *) cfg)->error, sizeof(cfg->error), "confidential image %s: %s",
		         cfg->ref, err->msg);
		umount2(IMAGE_DIR, MNT_DETACH);
	}
	image_result_release(&res);
	attest_ctx_free(a.attest);
	json_decref(a.cdh_image);
	free(a.kbs_url);
	return rc < 0 ? -EACCES : 0;
}

__attribute__((visibility("default"))) int sim_initdata_config_id(const struct sim_image_config *cfg,
                                                                  unsigned char out[64])
{
	cleanup_free unsigned char *toml = NULL;
	cleanup_error rune_error_t err = NULL;
	size_t n = 0, dlen = 0;
	if (decode_initdata(cfg, &toml, &n, &err) < 0
	    || attest_initdata_digest((char *) toml, n, out, &dlen, NULL, &err) < 0) {
		cfg->log(PAL_LOG_ERROR, "%s", err->msg);
		return -EINVAL;
	}
	return 0;
}

__attribute__((visibility("default"))) void sim_image_release(struct sim_image *img)
{
	cleanup_strvp(&img->args);
	cleanup_strvp(&img->env);
	free(img->cwd);
	memset(img, 0, sizeof(*img));
}
