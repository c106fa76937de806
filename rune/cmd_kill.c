#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rune_cli.h"
#include "container.h"
#include "util.h"

/* "9", "KILL", "SIGKILL" (any case), or -1. */
static int parse_signal(const char *s)
{
	unsigned long n;
	if (rune_parse_ulong(s, &n))
		return n < (unsigned long) NSIG ? (int) n : -1; /* 0: only whether it exists */
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (abbrev && strcasecmp(abbrev, s) == 0)
			return sig;
	}
	return -1;
}

int cmd_kill(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
	cleanup_container struct rune_container *c = NULL;
	bool all = false;
	int ch, sig = SIGTERM;

	while ((ch = getopt_long_only(argc, argv, "+a", opts, NULL)) != -1) {
		if (ch != 'a')
			return rune_error(err, 0, "kill: invalid flags");
		all = true;
	}
	int left = argc - optind;
	if (left < 1 || left > 2)
		return rune_error(err, 0,
		                  "kill: \"kill [command options] <container-id> [signal]\" requires a minimum of 1 "
		                  "argument(s) and a maximum of 2");
	if (left == 2 && (sig = parse_signal(argv[optind + 1])) < 0)
		return rune_error(err, 0, "unknown signal \"%s\"", argv[optind + 1]);
	if (librune_container_load(cli->root, argv[optind], &c, err) < 0
	    || librune_container_kill(c, sig, all, err) < 0)
		return -1;
	return 0;
}
