/* TEE quotes as bytes: SGX ECDSA v3, TDX v4 and v5, and the simulation's own
 * quote. Parsing checks sizes and versions and extracts the fields a
 * verifier compares; signature chains (Intel's collateral) are not checked
 * here. */
#ifndef RUNE_ATTEST_QUOTE_H
#define RUNE_ATTEST_QUOTE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum quote_kind { QUOTE_SGX, QUOTE_TDX, QUOTE_SIM };

struct quote {
	enum quote_kind kind;
	uint16_t version;
	/* SGX: mr_enclave (32), mr_signer (32), config_id (64); TDX: mr_td
	 * (48), mr_config_id (48), rtmr[4] (48); sim: measurement (32),
	 * config_id (64). */
	unsigned char mr_enclave[32], mr_signer[32], config_id[64];
	unsigned char mr_td[48], mr_config_id[48], rtmr[4][48], mr_seam[48];
	uint16_t isv_prod_id, isv_svn;
	unsigned char report_data[64];
	/* sim only: the signed bytes and the ECDSA P-256 signature (DER). */
	const unsigned char *signed_part;
	size_t signed_len;
	const unsigned char *signature;
	size_t signature_len;
};

/* The simulation's quote: "RUNE-SIM-QUOTE" magic (16), version u32, flags
 * u32 (bit 0 always set: simulation), measurement (32), config_id (64),
 * report_data (64), signature length u32, DER signature (ECDSA P-256,
 * SHA-256 over everything before the length). */
#define SIM_QUOTE_MAGIC "RUNE-SIM-QUOTE"
#define SIM_QUOTE_BODY  (16 + 4 + 4 + 32 + 64 + 64)

/* Parse a quote; `what` names it in errors. q points into data. */
int attest_quote_parse(const unsigned char *data, size_t len, const char *what, struct quote *q, rune_error_t *err);
/* Check that q (len bytes, freed here in every case) is a quote of `kind`
 * before it is sent (no verifier would read anything else; `what` names it)
 * and hand back its standard base64 in *b64. */
int attest_quote_take_b64(unsigned char *q, size_t len, enum quote_kind kind, const char *what, char **b64,
                          rune_error_t *err);
/* Its fields as JSON (hex), for `rune-attest evidence` and verifiers. */
json_t *attest_quote_json(const struct quote *q);

#endif
