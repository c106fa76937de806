#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"
#include "rune_cli.h"
#include "util.h"

int cli_parse_create_flags(int argc, char **argv, struct create_opts *o, bool run, bool *detach, bool *keep,
                           rune_error_t *err)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },   { "console-socket", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' }, { "no-pivot", no_argument, NULL, 'P' },
		{ "no-new-keyring", no_argument, NULL, 'K' }, { "preserve-fds", required_argument, NULL, 'F' },
		{ "detach", no_argument, NULL, 'd' },         { "keep", no_argument, NULL, 'k' },
		{ "no-subreaper", no_argument, NULL, 'S' },   { NULL, 0, NULL, 0 },
	};
	int c;
	unsigned long n;

	while ((c = getopt_long_only(argc, argv, run ? "+b:d" : "+b:", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'c':
			o->console_socket = optarg;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'P':
			o->no_pivot = true;
			break;
		case 'K':
			o->no_new_keyring = true;
			break;
		case 'F':
			if (!rune_parse_ulong(optarg, &n) || n > 4096)
				return rune_error(err, 0, "--preserve-fds: invalid value \"%s\"", optarg);
			o->preserve_fds = n;
			break;
		case 'd':
		case 'k':
			if (!run)
				return cli_bad_flag(argv, err);
			*(c == 'd' ? detach : keep) = true;
			break;
		case 'S':
			break; /* runc's; rune never acts as a subreaper */
		default:
			return cli_bad_flag(argv, err);
		}
	}
	/* Sockets activated by systemd come first, as runc passes them. */
	const char *lf = getenv("LISTEN_FDS");
	if (lf && rune_parse_ulong(lf, &n) && n > 0 && n < 1024)
		o->listen_fds = n;
	return 0;
}

int cmd_create(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	struct create_opts o = { .root = cli->root, .systemd_cgroup = cli->systemd_cgroup, .argv = cli->argv };
	cleanup_container struct rune_container *c = NULL;

	if (cli_parse_create_flags(argc, argv, &o, false, NULL, NULL, err) < 0
	    || cli_require_id(argc, argv, "create [command options] <container-id>", &o.id, err) < 0)
		return -1;
	return librune_container_create(&o, &c, err);
}
