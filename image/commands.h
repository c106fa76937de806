/* rune-image: one file per command, over libruneimage. */
#ifndef RUNE_IMAGE_COMMANDS_H
#define RUNE_IMAGE_COMMANDS_H

#include <stdbool.h>

#include "error.h"
#include "image.h"

struct cli {
	struct image_opts o;
	bool json, quiet, layers, config_only;
	int argc; /* operands after the command name */
	char **argv;
};

int cmd_pull(struct cli *c, rune_error_t *err);
int cmd_inspect(struct cli *c, rune_error_t *err);
int cmd_unpack(struct cli *c, rune_error_t *err);
int cmd_list(struct cli *c, rune_error_t *err);
int cmd_rm(struct cli *c, rune_error_t *err);
int cmd_gc(struct cli *c, rune_error_t *err);

/* Progress lines on a terminal (stderr); set up when stderr is one and not --quiet. */
void progress_attach(struct cli *c);
/* Finish the progress display. */
void progress_done(void);
/* Print g's buffer and a newline to stdout; frees g. */
void print_json(void *g);
/* Require exactly n operands; the error shows usage. */
int want_operands(struct cli *c, int n, const char *usage, rune_error_t *err);

#endif
