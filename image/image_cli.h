/* rune-image: one file per command, over libruneimage. Commands return 0
 * or -1 with err filled; a usage error carries exit code 2 (else 1), and
 * main prints err once. */
#ifndef RUNE_IMAGE_CLI_H
#define RUNE_IMAGE_CLI_H

#include <stdbool.h>

#include "error.h"
#include "image.h"

struct image_cli {
	struct image_opts o;
	struct image_decryption_key *keys; /* --decryption-key, each */
	bool json, quiet, layers, config_only;
	int argc; /* operands after the command name */
	char **argv;
};

int cmd_pull(struct image_cli *c, rune_error_t *err);
int cmd_inspect(struct image_cli *c, rune_error_t *err);
int cmd_unpack(struct image_cli *c, rune_error_t *err);
int cmd_list(struct image_cli *c, rune_error_t *err);
int cmd_rm(struct image_cli *c, rune_error_t *err);
int cmd_gc(struct image_cli *c, rune_error_t *err);
int cmd_fsck(struct image_cli *c, rune_error_t *err);
int cmd_verify(struct image_cli *c, rune_error_t *err);

/* Progress lines on a terminal (stderr); set up when stderr is one and not --quiet. */
void cli_progress_attach(struct image_cli *c);
/* Finish the progress display. */
void cli_progress_done(void);
/* Print g's buffer and a newline to stdout; frees g. */
void cli_print_json(void *g);
/* What a pull or unpack did: the digest, or (--format json) the whole result. */
void cli_print_result(const struct image_cli *c, const struct image_result *r, const char *bundle);
/* Require exactly n operands; the error shows usage and carries exit code 2. */
int cli_want_operands(struct image_cli *c, int n, const char *usage, rune_error_t *err);

#endif
