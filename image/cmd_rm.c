#include "image_cli.h"

int cmd_rm(struct image_cli *c, rune_error_t *err)
{
	struct image_ctx *ctx;
	if (cli_want_operands(c, 1, "rm REF", err) < 0 || image_ctx_new(&c->o, &ctx, err) < 0)
		return -1;
	int rc = image_remove(ctx, c->argv[1], err);
	image_ctx_free(ctx);
	return rc;
}
