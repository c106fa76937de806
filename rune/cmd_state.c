#include <getopt.h>
#include "rune_cli.h"
#include "container.h"
#include "json.h"

#include <stdio.h>

int cmd_state(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	const char *id;
	optind = 1;
	if (cli_require_id(argc, argv, "state <container-id>", &id, err) < 0
	    || librune_container_load(cli->root, id, &c, err) < 0)
		return -1;
	yajl_gen gen = rune_json_gen_new(true, "  ");
	/* runc's state shows an empty owner; list shows the user name. */
	librune_container_gen_state(c, librune_container_status(c), "", gen);
	/* runc prints the state without a trailing newline. */
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(gen, &buf, &len);
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	fwrite(buf, 1, len, stdout);
	yajl_gen_free(gen);
	return 0;
}
