/* liberpal-sim internals: the simulated enclave's parts. */
#ifndef RUNE_PAL_SIM_H
#define RUNE_PAL_SIM_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>

#define SIM_MAX_MEASURE 16

struct sim_config {
	const char *measure[SIM_MAX_MEASURE]; /* paths hashed into the measurement; default "/" */
	size_t n_measure;
	bool writable;               /* keep the root writable inside the enclave */
	bool keep_sys;               /* keep /sys inside the enclave */
	unsigned char config_id[64]; /* config_id=HEX: bound into quotes (the init-data digest) */
};

/* Give the calling process the enclave's mount namespace. 0 or -errno. */
int sim_enter_enclave_fs(const struct sim_config *cfg);
/* Build the enclave's seccomp filter into prog (caller frees prog->filter). 0 or -errno. */
int sim_build_filter(struct sock_fprog *prog);
/* The measurement: the PAL's code as loaded, its arguments, the measured files. 0 or -errno. */
int sim_measure(const struct sim_config *cfg, const char *args, unsigned char mr[32]);
/* Fill an SGX-format report carrying mr and the caller's report data. */
void sim_fill_report(const unsigned char mr[32], void *report);

/* Image mode (sim_image.c): the image the enclave pulls and runs. */
struct sim_image_config {
	const char *ref;             /* image=REF */
	const char *kbs;             /* kbs=URL, else init-data's aa.toml / cdh.toml */
	const char *initdata_b64;    /* initdata=BASE64 (the TOML document) */
	const char *initdata_gz_b64; /* initdata_gz=BASE64 (of gzip of it: Kata's cc_init_data) */
	bool insecure_registry;      /* registry_tls=false: plain HTTP, no verification */
	/* Why image mode failed, one line, for pal_last_error (rune prints it). */
	char error[1024];
	/* The PAL's logger: the agent is its own shared object. */
	void (*log)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
};
struct sim_image {
	char rootfs[256];
	char reference[256];
	char manifest_digest[80];
	char policy[256]; /* where the accepting policy came from */
	char kbs[256];
	char **args, **env, *cwd;
	unsigned uid, gid;
};
/* Attest, fetch policy and keys, pull, verify, decrypt and unpack into a
 * tmpfs of the enclave's namespace; 0 or -errno (the PAL log says why). */
int sim_image_prepare(const struct sim_image_config *cfg, struct sim_image *out);
void sim_image_release(struct sim_image *img);
/* The init-data's digest (its own algorithm), zero-padded: the config_id. */
int sim_initdata_config_id(const struct sim_image_config *cfg, unsigned char out[64]);

/* Offer Gramine's /dev/attestation files in the enclave, quotes signed by
 * the simulation key (sim_attest.c). 0 or -errno. */
int sim_attestation_start(const unsigned char mr[32], const unsigned char config_id[64]);
void sim_attestation_stop(void);

#endif
