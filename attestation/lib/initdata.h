/* Init-data documents (TOML), as confidential-containers writes them. */
#ifndef RUNE_ATTEST_INITDATA_H
#define RUNE_ATTEST_INITDATA_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* Check version "0.1.0" and the algorithm (sha256|sha384|sha512), and put
 * that digest of the raw bytes in out (zero-padded to 64), its length in
 * *out_len and the algorithm's name in *alg (if alg != NULL). */
int attest_initdata_digest(const char *doc, size_t len, unsigned char out[64], size_t *out_len, const char **alg,
                           rune_error_t *err);

/* Parse the document (TOML): {version, algorithm, data: {name: text}}; each
 * member of data must be a string (a document of its own). */
int attest_initdata_parse(const char *doc, size_t len, json_t **out, rune_error_t *err);

#endif
