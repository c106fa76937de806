/* A strict subset of TOML v1.0, as init-data and agent configurations use
 * it: tables, bare and quoted keys, strings of all four kinds, integers,
 * booleans, arrays. */
#ifndef RUNE_ATTEST_TOML_H
#define RUNE_ATTEST_TOML_H

#include <jansson.h>
#include <stddef.h>

#include "error.h"

/* Parse doc into a JSON object (tables become objects); `what` names the
 * document in errors, which give the line. */
int attest_toml_parse(const char *doc, size_t len, const char *what, json_t **out, rune_error_t *err);

#endif
