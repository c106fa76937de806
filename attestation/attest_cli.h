/* rune-attest: one file per command, over libruneattest. Commands return 0
 * or -1 with err filled; usage errors carry exit code 2, a KBS refusal
 * ATTEST_EXIT_DENIED (3), anything else 1; main prints err once. */
#ifndef RUNE_ATTEST_CLI_H
#define RUNE_ATTEST_CLI_H

#include "attest.h"
#include "error.h"

struct attest_cli {
	struct attest_options o;
	const char *initdata_file;
	const char *nonce;  /* evidence --nonce */
	const char **paths; /* get-resource --path, each */
	size_t n_paths;
	const char *out_file; /* get-resource --output */
	int argc;             /* operands after the command name */
	char **argv;
};

int cmd_attest(struct attest_cli *c, rune_error_t *err);
int cmd_get_resource(struct attest_cli *c, rune_error_t *err);
int cmd_evidence(struct attest_cli *c, rune_error_t *err);
int cmd_keyprovider(struct attest_cli *c, rune_error_t *err);

/* A context from the command line's options (reads --initdata). */
int cli_attest_ctx(struct attest_cli *c, struct attest_ctx **out, rune_error_t *err);

#endif
