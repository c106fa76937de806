#include "image_cli.h"
#include "json.h"

int cmd_inspect(struct image_cli *c, rune_error_t *err)
{
	struct image_ctx *ctx;
	if (cli_want_operands(c, 1, "inspect [--config] REF", err) < 0 || image_ctx_new(&c->o, &ctx, err) < 0)
		return -1;
	yajl_gen g = rune_json_gen_new(true, "  ");
	int rc = image_inspect(ctx, c->argv[1], c->config_only, g, err);
	image_ctx_free(ctx);
	if (rc < 0) {
		yajl_gen_free(g);
		return -1;
	}
	cli_print_json(g);
	return 0;
}
