#include <getopt.h>

#include "commands.h"
#include "container.h"

int cmd_resume(struct global_opts *g, int argc, char **argv, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	const char *id;
	optind = 1;
	if (require_id(argc, argv, "resume <container-id>", &id, err) < 0 || container_load(g->root, id, &c, err) < 0)
		return 1;
	if (container_status(c) != STATUS_PAUSED)
		return rune_error(err, 0, "container not paused"), 1;
	return cgroup_freeze(c->cgroup, false, err) < 0 ? 1 : 0;
}
