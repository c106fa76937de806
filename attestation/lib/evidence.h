/* Evidence providers: one table, detected in order, chosen by name. Each
 * turns 64 bytes of report data into the JSON Trustee's verifier for its TEE
 * expects in tee-evidence.primary_evidence. */
#ifndef RUNE_ATTEST_EVIDENCE_H
#define RUNE_ATTEST_EVIDENCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct evidence_provider {
	const char *name;    /* --tee */
	const char *kbs_tee; /* the "tee" of the KBS Request */
	/* Is this TEE here? root prefixes every device path. */
	bool (*detect)(const char *root);
	int (*evidence)(const char *root, const unsigned char report_data[64], size_t rd_len, json_t **primary,
	                rune_error_t *err);
};

const struct evidence_provider *attest_provider_by_name(const char *name);
/* The first provider whose detect() says yes; the last ("sample") never
 * detects: it is chosen only by name. NULL when none. */
const struct evidence_provider *attest_provider_detect(const char *root);

extern const struct evidence_provider attest_provider_sgx, attest_provider_tdx, attest_provider_sim,
    attest_provider_sample;

/* root + path, e.g. "/tmp/fake" + "/dev/attestation/quote". */
char *attest_path(const char *root, const char *path);

/* Gramine's /dev/attestation protocol (also the simulation's): write the
 * 64 bytes of user_report_data in one write, read `file` to EOF (at most
 * max bytes). `provider` names the caller in errors. */
int attest_dev_attestation_quote(const char *root, const char *provider, const unsigned char report_data[64],
                                 const char *file, size_t max, unsigned char **out, size_t *len, rune_error_t *err);
/* The content of <root>/dev/attestation/attestation_type, or NULL. */
char *attest_dev_attestation_type(const char *root);

#define SIM_ATTESTATION_TYPE "rune-sim-insecure-simulation"

#endif
