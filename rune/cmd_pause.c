#include <getopt.h>

#include "commands.h"
#include "container.h"

int cmd_pause(struct global_opts *g, int argc, char **argv, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	const char *id;
	optind = 1;
	if (require_id(argc, argv, "pause <container-id>", &id, err) < 0 || container_load(g->root, id, &c, err) < 0)
		return 1;
	enum rune_status s = container_status(c);
	if (s != STATUS_RUNNING && s != STATUS_CREATED)
		return rune_error(err, 0, "container not running"), 1;
	return cgroup_freeze(c->cgroup, true, err) < 0 ? 1 : 0;
}
