#include "image_cli.h"
#include "json.h"

#include <stdio.h>

void cli_print_result(const struct image_cli *c, const struct image_result *r, const char *bundle)
{
	if (c->json) {
		yajl_gen g = rune_json_gen_new(true, "  ");
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "reference", r->reference);
		rune_json_gen_kv_str(g, "digest", r->digest);
		rune_json_gen_kv_str(g, "manifestDigest", r->manifest_digest);
		rune_json_gen_kv_int(g, "layers", r->layers);
		rune_json_gen_kv_int(g, "downloaded", r->downloaded);
		rune_json_gen_kv_int(g, "bytes", (long long) r->bytes);
		rune_json_gen_kv_int(g, "retries", r->retries);
		if (bundle)
			rune_json_gen_kv_str(g, "bundle", bundle);
		yajl_gen_map_close(g);
		cli_print_json(g);
	} else if (!c->quiet) {
		printf("%s\n", r->digest);
	}
}

int cmd_pull(struct image_cli *c, rune_error_t *err)
{
	struct image_ctx *ctx;
	struct image_result r;
	if (cli_want_operands(c, 1, "pull [options] REF", err) < 0)
		return -1;
	cli_progress_attach(c);
	if (image_ctx_new(&c->o, &ctx, err) < 0)
		return -1;
	int rc = image_pull(ctx, c->argv[1], &r, err);
	cli_progress_done();
	image_ctx_free(ctx);
	if (rc < 0)
		return -1;
	cli_print_result(c, &r, NULL);
	image_result_release(&r);
	return 0;
}
