#include <getopt.h>

#include "rune_cli.h"
#include "container.h"

int cmd_resume(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	const char *id;
	optind = 1;
	if (cli_require_id(argc, argv, "resume <container-id>", &id, err) < 0
	    || librune_container_load(cli->root, id, &c, err) < 0)
		return -1;
	if (librune_container_status(c) != STATUS_PAUSED)
		return rune_error(err, 0, "container not paused");
	return librune_cgroup_freeze(c->cgroup, false, err) < 0 ? -1 : 0;
}
