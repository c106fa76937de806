#include "commands.h"
#include "json.h"

#include <stdio.h>

static void print_result(const struct cli *c, const struct image_result *r, double secs, const char *bundle)
{
	if (c->json) {
		yajl_gen g = json_gen_new(true, "  ");
		yajl_gen_map_open(g);
		json_gen_kv_str(g, "reference", r->reference);
		json_gen_kv_str(g, "digest", r->digest);
		json_gen_kv_str(g, "manifestDigest", r->manifest_digest);
		json_gen_kv_int(g, "layers", r->layers);
		json_gen_kv_int(g, "downloaded", r->downloaded);
		json_gen_kv_int(g, "bytes", (long long) r->bytes);
		json_gen_kv_int(g, "retries", r->retries);
		if (bundle)
			json_gen_kv_str(g, "bundle", bundle);
		yajl_gen_map_close(g);
		print_json(g);
	} else if (!c->quiet) {
		printf("%s\n", r->digest);
	}
	(void) secs;
}

int cmd_pull(struct cli *c, rune_error_t *err)
{
	struct image_ctx *ctx;
	struct image_result r;
	if (want_operands(c, 1, "pull [options] REF", err) < 0)
		return -1;
	progress_attach(c);
	if (image_ctx_new(&c->o, &ctx, err) < 0)
		return -1;
	int rc = image_pull(ctx, c->argv[1], &r, err);
	progress_done();
	image_ctx_free(ctx);
	if (rc < 0)
		return -1;
	print_result(c, &r, 0, NULL);
	image_result_release(&r);
	return 0;
}

int cmd_unpack(struct cli *c, rune_error_t *err)
{
	struct image_ctx *ctx;
	struct image_result r;
	if (want_operands(c, 2, "unpack [--layers] [options] REF BUNDLE", err) < 0)
		return -1;
	progress_attach(c);
	if (image_ctx_new(&c->o, &ctx, err) < 0)
		return -1;
	int rc = image_unpack(ctx, c->argv[1], c->argv[2], c->layers, &r, err);
	progress_done();
	image_ctx_free(ctx);
	if (rc < 0)
		return -1;
	print_result(c, &r, 0, c->argv[2]);
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
