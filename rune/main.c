/* rune: a runc-compatible OCI runtime. Global flags, then one command. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>

#include "cleanup.h"
#include "commands.h"
#include "json.h"
#include "log.h"
#include "sealed_exe.h"
#include "util.h"

static const struct {
	const char *name;
	command_fn fn;
	const char *help;
} commands[] = {
	{ "create", cmd_create, "create a container" },
	{ "delete", cmd_delete, "delete any resources held by the container" },
	{ "events", cmd_events,
	  "display container events such as OOM notifications, cpu, memory, and IO usage statistics" },
	{ "exec", cmd_exec, "execute new process inside the container" },
	{ "features", cmd_features, "show the enabled features" },
	{ "kill", cmd_kill, "kill sends the specified signal (default: SIGTERM) to the container's init process" },
	{ "list", cmd_list, "lists containers started by rune with the given root" },
	{ "pause", cmd_pause, "pause suspends all processes inside the container" },
	{ "ps", cmd_ps, "ps displays the processes running inside a container" },
	{ "resume", cmd_resume, "resumes all processes that have been previously paused" },
	{ "run", cmd_run, "create and run a container" },
	{ "spec", cmd_spec, "create a new specification file" },
	{ "start", cmd_start, "executes the user defined process in a created container" },
	{ "state", cmd_state, "output the state of a container" },
	{ "update", cmd_update, "update container resource constraints" },
};

static void usage(FILE *f)
{
	fprintf(f, "NAME:\n   rune - a runc-compatible OCI runtime for confidential containers\n\n"
	           "USAGE:\n   rune [global options] command [command options] [arguments...]\n\nCOMMANDS:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "   %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nGLOBAL OPTIONS:\n"
	           "   --debug              enable debug logging\n"
	           "   --log value          set the log file to write rune logs to (default is stderr)\n"
	           "   --log-format value   set the log format ('text' (default), or 'json') (default: \"text\")\n"
	           "   --root value         root directory for storage of container state (default: \"/run/rune\")\n"
	           "   --systemd-cgroup     enable systemd cgroup support\n"
	           "   --help, -h           show help\n"
	           "   --version, -v        print the version\n");
}

int require_id(int argc, char **argv, const char *usage_line, const char **id, rune_error_t *err)
{
	if (optind >= argc)
		return rune_error(err, 0, "%s: \"%s\" requires exactly 1 argument(s)", argv[0], usage_line);
	if (argc - optind > 1)
		return rune_error(err, 0, "%s: \"%s\" requires exactly 1 argument(s)", argv[0], usage_line);
	*id = argv[optind];
	return 0;
}

void print_gen(void *gen)
{
	json_gen_print(gen, stdout);
}

int main(int argc, char **argv)
{
	struct global_opts g = { .root = "/run/rune" };
	cleanup_error rune_error_t err = NULL;
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "debug", no_argument, NULL, 'd' },
		{ "systemd-cgroup", no_argument, NULL, 's' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "criu", required_argument, NULL, 'c' },
		{ "rootless", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g.root = optarg;
			break;
		case 'l':
			g.log = optarg;
			break;
		case 'f':
			g.log_format = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 's':
			g.systemd_cgroup = true;
			break;
		case 'v':
			printf("rune version %s\ncommit: %s\nspec: 1.2.0\n", RUNE_VERSION, RUNE_COMMIT);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'c':
		case 'R':
			break;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (rune_log_init(g.log, g.log_format, g.debug, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		return 1;
	}
	if (optind >= argc) {
		usage(stdout);
		return 0;
	}
	const char *name = argv[optind];
	if (strcmp(name, "help") == 0) {
		usage(stdout);
		return 0;
	}
	/* Commands that put rune processes into a container run from a sealed copy. */
	if ((strcmp(name, "create") == 0 || strcmp(name, "run") == 0 || strcmp(name, "exec") == 0)
	    && sealed_exe_ensure(argv, &err) < 0) {
		rune_log_fatal(err);
		return strcmp(name, "exec") == 0 ? 255 : 1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		int sub_argc = argc - optind;
		char **sub_argv = argv + optind;
		optind = 0; /* re-initialise getopt for the command's own flags */
		int ret = commands[i].fn(&g, sub_argc, sub_argv, &err);
		if (err) {
			rune_log_fatal(err);
			return ret ? ret : 1;
		}
		fflush(stdout);
		return ret;
	}
	rune_error(&err, 0, "No help topic for '%s'", name);
	rune_log_fatal(err);
	return 1;
}
