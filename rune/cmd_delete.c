#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cleanup.h"
#include "rune_cli.h"
#include "container.h"
#include "log.h"
#include "util.h"

int cmd_delete(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	cleanup_container struct rune_container *c = NULL;
	bool force = false;
	const char *id;
	int ch;

	while ((ch = getopt_long_only(argc, argv, "+f", opts, NULL)) != -1) {
		if (ch != 'f')
			return rune_error(err, 0, "delete: invalid flags");
		force = true;
	}
	if (cli_require_id(argc, argv, "delete [command options] <container-id>", &id, err) < 0)
		return -1;
	if (librune_container_load(cli->root, id, &c, err) < 0) {
		if (!force || librune_container_validate_id(id, NULL) < 0
		    || strcmp((*err)->msg, "container does not exist") != 0)
			return -1;
		/* Perhaps a create is under way, or was killed half-way. */
		rune_error_release(err);
		int r = librune_container_remove_leftover(cli->root, id, err);
		if (r <= 0)
			return r; /* nothing left, or an error */
		/* The create completed meanwhile: delete the container it made. */
		if (librune_container_load(cli->root, id, &c, err) < 0)
			return -1;
	}
	/* An enclave workload's status is only known to rune from what its init left. */
	int code = c->config->enclave ? librune_container_enclave_exit_code(c) : -1;
	if (librune_container_delete(c, force, err) < 0)
		return -1;
	if (code >= 0)
		log_info("container %s: enclave workload exited with status %d", id, code);
	return 0;
}
