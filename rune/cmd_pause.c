#include <getopt.h>

#include "container.h"
#include "rune_cli.h"

int cmd_pause(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	const char *id;
	optind = 1;
	if (cli_require_id(argc, argv, "pause <container-id>", &id, err) < 0
	    || librune_container_load(cli->root, id, &c, err) < 0)
		return -1;
	enum rune_status s = librune_container_status(c);
	if (s != STATUS_RUNNING && s != STATUS_CREATED)
		return rune_error(err, 0, "container not running");
	return librune_cgroup_freeze(c->cgroup, true, err);
}
