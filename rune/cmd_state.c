#include <getopt.h>
#include "commands.h"
#include "container.h"
#include "json.h"

int cmd_state(struct global_opts *g, int argc, char **argv, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	const char *id;
	optind = 1;
	if (require_id(argc, argv, "state <container-id>", &id, err) < 0 || container_load(g->root, id, &c, err) < 0)
		return 1;
	yajl_gen gen = json_gen_new(true, "  ");
	/* runc's state shows an empty owner; list shows the user name. */
	container_gen_state(c, container_status(c), "", gen);
	print_gen(gen);
	return 0;
}
