#include <stdio.h>
#include <string.h>

#include "image_cli.h"
#include "json.h"

int cmd_list(struct image_cli *c, rune_error_t *err)
{
	struct image_ctx *ctx;
	if (cli_want_operands(c, 0, "list [--format json]", err) < 0 || image_ctx_new(&c->o, &ctx, err) < 0)
		return -1;
	yajl_gen g = rune_json_gen_new(c->json, "  ");
	int rc = image_list(ctx, g, err);
	image_ctx_free(ctx);
	if (rc < 0) {
		yajl_gen_free(g);
		return -1;
	}
	if (c->json) {
		cli_print_json(g);
		return 0;
	}
	const unsigned char *buf;
	size_t len;
	yajl_val tree = NULL;
	yajl_gen_get_buf(g, &buf, &len);
	rc = rune_json_parse((const char *) buf, "list", &tree, err);
	yajl_gen_free(g);
	if (rc < 0)
		return -1;
	printf("%-50s %-20s %s\n", "REFERENCE", "DIGEST", "PULLED");
	for (size_t i = 0; i < tree->u.array.len; i++) {
		yajl_val e = tree->u.array.values[i];
		yajl_val ref = rune_json_get(e, "reference"), dig = rune_json_get(e, "digest"),
		         at = rune_json_get(e, "pulled");
		printf("%-50s %-20.19s %s\n", YAJL_IS_STRING(ref) ? ref->u.string : "",
		       YAJL_IS_STRING(dig) ? dig->u.string : "", YAJL_IS_STRING(at) ? at->u.string : "");
	}
	yajl_tree_free(tree);
	return 0;
}
