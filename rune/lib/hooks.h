/* OCI hooks: run each with the container state on stdin, its args, env and
 * timeout. */
#ifndef RUNE_HOOKS_H
#define RUNE_HOOKS_H

#include "oci_config.h"
#include "error.h"

/* Run every hook of one kind in order; the first failure stops and is returned. */
int librune_hooks_run(const struct rune_hook_list *hooks, enum rune_hook_kind kind, const char *state_json,
                      rune_error_t *err);

#endif
