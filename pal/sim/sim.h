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

/* Offer Gramine's /dev/attestation files in the enclave, quotes signed by
 * the simulation key (sim_attest.c). 0 or -errno. */
int sim_attestation_start(const unsigned char mr[32], const unsigned char config_id[64]);
void sim_attestation_stop(void);

#endif
