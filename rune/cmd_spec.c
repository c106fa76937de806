#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "rune_cli.h"
#include "container.h"
#include "json.h"
#include "spec.h"
#include "util.h"

int cmd_spec(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	static const struct option opts[] = { { "bundle", required_argument, NULL, 'b' },
		                              { "rootless", no_argument, NULL, 'R' },
		                              { NULL, 0, NULL, 0 } };
	const char *bundle = NULL;
	bool rootless = false;
	int ch;

	while ((ch = getopt_long_only(argc, argv, "+b:", opts, NULL)) != -1) {
		if (ch == 'b')
			bundle = optarg;
		else if (ch == 'R')
			rootless = true;
		else
			return rune_error(err, 0, "spec: invalid flags");
	}
	if (bundle && chdir(bundle) < 0)
		return rune_error(err, errno, "spec: bundle %s", bundle);
	if (access("config.json", F_OK) == 0)
		return rune_error(err, EEXIST, "File config.json exists. Remove it first");

	yajl_gen g = rune_json_gen_new(true, "\t");
	struct spec_opts so = { .rootless = rootless, .readonly = true };
	rune_spec_gen(g, &so);
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	int r = rune_write_file_atomic("config.json", buf, len, 0666 & ~0022, err);
	yajl_gen_free(g);
	return r < 0 ? -1 : 0;
}
