#include <errno.h>
#include <stdio.h>

#include "image_cli.h"
#include "json.h"

static void gen_strv(yajl_gen g, const char *key, char **v)
{
	rune_json_gen_key(g, key);
	yajl_gen_array_open(g);
	for (char **p = v; p && *p; p++)
		rune_json_gen_str(g, *p);
	yajl_gen_array_close(g);
}

/* fsck: exit 0 when the store is consistent (debris is not an
 * inconsistency: gc removes it), 1 naming every problem otherwise. */
int cmd_fsck(struct image_cli *c, rune_error_t *err)
{
	struct image_fsck r;
	if (cli_want_operands(c, 0, "fsck [--format json]", err) < 0 || image_fsck(&c->o, &r, err) < 0)
		return -1;
	size_t n_problems = 0, n_debris = 0;
	while (r.problems && r.problems[n_problems])
		n_problems++;
	while (r.debris && r.debris[n_debris])
		n_debris++;
	if (c->json) {
		yajl_gen g = rune_json_gen_new(true, "  ");
		yajl_gen_map_open(g);
		rune_json_gen_kv_int(g, "blobs", r.blobs);
		rune_json_gen_kv_int(g, "bytes", (long long) r.bytes);
		rune_json_gen_kv_int(g, "references", r.refs);
		rune_json_gen_kv_int(g, "unreferenced", r.unreferenced);
		gen_strv(g, "problems", r.problems);
		gen_strv(g, "debris", r.debris);
		yajl_gen_map_close(g);
		cli_print_json(g);
	} else {
		for (size_t i = 0; i < n_problems; i++)
			fprintf(stderr, "rune-image: fsck: %s\n", r.problems[i]);
		if (!c->quiet)
			printf("%zu blobs (%llu bytes), %zu references: %s; %zu unreferenced blobs and %zu abandoned "
			       "ingest files (gc removes them)\n",
			       r.blobs, (unsigned long long) r.bytes, r.refs,
			       n_problems ? "INCONSISTENT" : "consistent", r.unreferenced, n_debris);
	}
	image_fsck_release(&r);
	if (n_problems)
		return rune_error(err, 0, "fsck: the store %s has %zu problem%s", c->o.root ? c->o.root : "(default)",
		                  n_problems, n_problems == 1 ? "" : "s");
	return 0;
}
