#include <stdio.h>

#include "image_cli.h"
#include "json.h"

int cmd_gc(struct image_cli *c, rune_error_t *err)
{
	size_t removed;
	uint64_t bytes;
	if (cli_want_operands(c, 0, "gc", err) < 0 || image_gc(&c->o, &removed, &bytes, err) < 0)
		return -1;
	if (c->json) {
		yajl_gen g = rune_json_gen_new(true, "  ");
		yajl_gen_map_open(g);
		rune_json_gen_kv_int(g, "removed", removed);
		rune_json_gen_kv_int(g, "bytes", (long long) bytes);
		yajl_gen_map_close(g);
		cli_print_json(g);
	} else if (!c->quiet) {
		printf("removed %zu blobs, %llu bytes\n", removed, (unsigned long long) bytes);
	}
	return 0;
}
