#include <getopt.h>

#include "container.h"
#include "rune_cli.h"

int cmd_start(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	const char *id;
	optind = 1;
	if (cli_require_id(argc, argv, "start <container-id>", &id, err) < 0
	    || librune_container_load(cli->root, id, &c, err) < 0)
		return -1;
	return librune_container_start(c, err);
}
