#include <stdio.h>

#include "image_cli.h"

int cmd_unpack(struct image_cli *c, rune_error_t *err)
{
	struct image_ctx *ctx;
	struct image_result r;
	if (cli_want_operands(c, 2, "unpack [--layers] [options] REF BUNDLE", err) < 0)
		return -1;
	cli_progress_attach(c);
	if (image_ctx_new(&c->o, &ctx, err) < 0)
		return -1;
	int rc = image_unpack(ctx, c->argv[1], c->argv[2], c->layers, &r, err);
	cli_progress_done();
	image_ctx_free(ctx);
	if (rc < 0)
		return -1;
	cli_print_result(c, &r, c->argv[2]);
	if (c->layers && !c->json && !c->quiet) {
		fprintf(stderr,
		        "layers in %s/layers (000 lowest); mount with:\n  mount -t overlay overlay -o lowerdir=",
		        c->argv[2]);
		for (unsigned i = r.layers; i-- > 0;)
			fprintf(stderr, "%s/layers/%03u%s", c->argv[2], i, i ? ":" : "");
		fprintf(stderr, ",upperdir=UPPER,workdir=WORK %s/rootfs\n", c->argv[2]);
	}
	image_result_release(&r);
	return 0;
}
