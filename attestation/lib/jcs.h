/* RFC 8785 JSON canonicalization, as the KBS protocol binds evidence with it. */
#ifndef RUNE_ATTEST_JCS_H
#define RUNE_ATTEST_JCS_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* The canonical form of v (NUL-terminated, length in *len if len != NULL). */
int attest_jcs(const json_t *v, char **out, size_t *len, rune_error_t *err);
/* Parse json (I-JSON: duplicate names refused) and canonicalize it. */
int attest_jcs_text(const char *json, size_t n, char **out, size_t *len, rune_error_t *err);
/* ECMAScript's Number::toString of a finite double; -1 for NaN/Infinity. */
int attest_jcs_number(double v, char out[32]);

#endif
