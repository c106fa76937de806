#include <getopt.h>

#include "commands.h"
#include "container.h"

int cmd_start(struct global_opts *g, int argc, char **argv, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	const char *id;
	optind = 1;
	if (require_id(argc, argv, "start <container-id>", &id, err) < 0 || container_load(g->root, id, &c, err) < 0
	    || container_start(c, err) < 0)
		return 1;
	return 0;
}
