/* rune: a runc-compatible OCI runtime. Global flags, then one command. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "log.h"
#include "rune_cli.h"
#include "sealed_exe.h"
#include "util.h"

/* The options create and run share. */
#define CREATE_OPTIONS                                                                                                 \
	"   --bundle value, -b value  path to the root of the bundle directory (default: the current one)\n"           \
	"   --console-socket value    unix socket to receive the pty master on\n"                                      \
	"   --pid-file value          file to write the process id to\n"                                               \
	"   --no-pivot                do not use pivot_root (for a ramfs root)\n"                                      \
	"   --no-new-keyring          do not create a new session keyring\n"                                           \
	"   --preserve-fds value      pass N more file descriptors (after stdio) to the container\n"

static const struct command {
	const char *name;
	command_fn fn;
	const char *summary, *usage, *options;
} commands[] = {
	{ "create", cmd_create, "create a container", "[command options] <container-id>", CREATE_OPTIONS },
	{ "delete", cmd_delete, "delete any resources held by the container", "[command options] <container-id>",
	  "   --force, -f  kill the container first (SIGKILL) if it is still running\n" },
	{ "events", cmd_events,
	  "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
	  "[command options] <container-id>",
	  "   --interval value  stats collection interval (default: 5s)\n"
	  "   --stats           print the container's stats once and exit\n" },
	{ "exec", cmd_exec, "execute new process inside the container",
	  "[command options] <container-id> <command> [command options]",
	  "   --console-socket value        unix socket to receive the pty master on\n"
	  "   --cwd value                   current working directory in the container\n"
	  "   --env value, -e value         set environment variables\n"
	  "   --tty, -t                     allocate a pseudo-TTY\n"
	  "   --user value, -u value        UID (format: <uid>[:<gid>])\n"
	  "   --additional-gids value, -g   additional gids\n"
	  "   --process value, -p value     path to the process.json\n"
	  "   --detach, -d                  detach from the container's process\n"
	  "   --pid-file value              file to write the process id to\n"
	  "   --process-label value         SELinux label for the process\n"
	  "   --apparmor value              AppArmor profile for the process\n"
	  "   --no-new-privs                set no_new_privs for the process\n"
	  "   --cap value, -c value         add a capability to the bounding set\n"
	  "   --preserve-fds value          pass N more file descriptors (after stdio) to the process\n"
	  "   --cgroup value                run in a sub-cgroup: path, or controller[,controller]:path\n"
	  "   --ignore-paused               allow exec in a paused container (the process waits for resume)\n" },
	{ "features", cmd_features, "show the enabled features", "", "" },
	{ "kill", cmd_kill, "kill sends the specified signal (default: SIGTERM) to the container's init process",
	  "[command options] <container-id> [signal]",
	  "   --all, -a  send the signal to all processes in the container\n" },
	{ "list", cmd_list, "lists containers started by rune with the given root", "[command options]",
	  "   --format value, -f value  select one of: table or json (default: \"table\")\n"
	  "   --quiet, -q               display only container IDs\n" },
	{ "pause", cmd_pause, "pause suspends all processes inside the container", "<container-id>", "" },
	{ "ps", cmd_ps, "ps displays the processes running inside a container",
	  "[command options] <container-id> [ps options]",
	  "   --format value, -f value  select one of: table or json (default: \"table\")\n" },
	{ "resume", cmd_resume, "resumes all processes that have been previously paused", "<container-id>", "" },
	{ "run", cmd_run, "create and run a container", "[command options] <container-id>",
	  CREATE_OPTIONS "   --detach, -d              detach from the container's process\n"
	                 "   --keep                    do not delete the container after it exits\n" },
	{ "spec", cmd_spec, "create a new specification file", "[command options]",
	  "   --bundle value, -b value  path to the root of the bundle directory\n"
	  "   --rootless                generate a configuration for a rootless container\n" },
	{ "start", cmd_start, "executes the user defined process in a created container", "<container-id>", "" },
	{ "state", cmd_state, "output the state of a container", "<container-id>", "" },
	{ "update", cmd_update, "update container resource constraints", "[command options] <container-id>",
	  "   --resources value, -r value  path to a file with the resources to update (LinuxResources JSON; - for "
	  "stdin)\n"
	  "   --blkio-weight value         block IO weight (10 to 1000)\n"
	  "   --cpu-period value           CPU CFS period in microseconds\n"
	  "   --cpu-quota value            CPU CFS quota in microseconds\n"
	  "   --cpu-share value            CPU shares (relative weight)\n"
	  "   --cpu-rt-period value        CPU realtime period in microseconds\n"
	  "   --cpu-rt-runtime value       CPU realtime runtime in microseconds\n"
	  "   --cpuset-cpus value          CPUs to use (0-3, 0,1)\n"
	  "   --cpuset-mems value          memory nodes to use (0-3, 0,1)\n"
	  "   --memory value               memory limit (in bytes, or with k, m, g)\n"
	  "   --memory-reservation value   memory reservation or soft limit\n"
	  "   --memory-swap value          total memory usage (memory + swap); -1 for unlimited\n"
	  "   --pids-limit value           maximum number of pids; 0 or -1 for unlimited\n" },
};

static void usage(FILE *f)
{
	fprintf(f, "NAME:\n   rune - a runc-compatible OCI runtime for confidential containers\n\n"
	           "USAGE:\n   rune [global options] command [command options] [arguments...]\n\nCOMMANDS:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "   %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nGLOBAL OPTIONS:\n"
	           "   --debug              enable debug logging\n"
	           "   --log value          set the log file to write rune logs to (default is stderr)\n"
	           "   --log-format value   set the log format ('text' (default), or 'json') (default: \"text\")\n"
	           "   --root value         root directory for storage of container state (default: \"/run/rune\")\n"
	           "   --systemd-cgroup     enable systemd cgroup support\n"
	           "   --help, -h           show help\n"
	           "   --version, -v        print the version\n");
}

static void command_usage(const struct command *c)
{
	printf("NAME:\n   rune %s - %s\n\nUSAGE:\n   rune %s %s\n", c->name, c->summary, c->name, c->usage);
	if (c->options[0])
		printf("\nOPTIONS:\n%s", c->options);
	printf("   --help, -h  show help\n");
}

/* -h or --help among the options before the first operand. */
static bool asks_for_help(int argc, char **argv)
{
	for (int i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-help") == 0)
			return true;
	return false;
}

int cli_require_id(int argc, char **argv, const char *usage_line, const char **id, rune_error_t *err)
{
	if (argc - optind != 1)
		return rune_error(err, 0, "%s: \"%s\" requires exactly 1 argument(s)", argv[0], usage_line);
	*id = argv[optind];
	return 0;
}

int cli_bad_flag(char **argv, rune_error_t *err)
{
	return rune_error(err, 0, "%s: invalid flags (see rune %s --help)", argv[0], argv[0]);
}

void cli_print_json(void *gen)
{
	rune_json_gen_print(gen, stdout);
}

int cli_run_sealed(struct rune_cli *cli, rune_error_t *err)
{
	return librune_sealed_exe_ensure(cli->argv, err);
}

static int run_command(const struct command *c, struct rune_cli *cli, int argc, char **argv)
{
	cleanup_error rune_error_t err = NULL;
	if (asks_for_help(argc, argv)) {
		command_usage(c);
		return 0;
	}
	optind = 0; /* re-initialise getopt for the command's own flags */
	if (c->fn(cli, argc, argv, &err) < 0) {
		rune_log_fatal(err);
		return rune_error_exit_code(err);
	}
	fflush(stdout);
	return cli->exit_code;
}

int main(int argc, char **argv)
{
	struct rune_cli cli = { .root = "/run/rune", .argv = argv };
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
			cli.root = optarg;
			break;
		case 'l':
			cli.log = optarg;
			break;
		case 'f':
			cli.log_format = optarg;
			break;
		case 'd':
			cli.debug = true;
			break;
		case 's':
			cli.systemd_cgroup = true;
			break;
		case 'v':
			printf("rune version %s\ncommit: %s\nspec: 1.2.0\n", RUNE_VERSION, RUNE_COMMIT);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'c':
		case 'R':
			break; /* runc's, accepted and without effect here */
		default:
			usage(stderr);
			return 1;
		}
	}
	if (rune_log_init(cli.log, cli.log_format, cli.debug, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		return 1;
	}
	if (optind >= argc || strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return run_command(&commands[i], &cli, argc - optind, argv + optind);
	rune_error(&err, 0, "No help topic for '%s'", argv[optind]);
	rune_log_fatal(err);
	return 1;
}
