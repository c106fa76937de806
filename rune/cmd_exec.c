#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "rune_cli.h"
#include "oci_config.h"
#include "container.h"
#include "json.h"
#include "sealed_exe.h"
#include "util.h"

#define EXEC_FAILED 255 /* runc's code for "the runtime failed", distinct from the process's */

struct exec_flags {
	const char *process_file, *cwd, *user, *apparmor, *label;
	char **env, **gids, **caps;
	bool tty, no_new_privs;
};

static int parse_user_flag(const char *s, struct rune_process *p, rune_error_t *err)
{
	unsigned long uid, gid;
	cleanup_free char *copy = xstrdup(s);
	char *colon = strchr(copy, ':');
	if (colon)
		*colon = '\0';
	if (!rune_parse_ulong(copy, &uid) || (colon && !rune_parse_ulong(colon + 1, &gid)))
		return rune_error(err, 0, "--user: \"%s\" must be uid[:gid] in numbers", s);
	p->uid = uid;
	if (colon)
		p->gid = gid;
	return 0;
}

/* Without --process, runc starts from the container's own process and applies the flags. */
static int build_process(struct rune_container *c, struct exec_flags *f, int nargs, char **args, struct rune_process *p,
                         rune_error_t *err)
{
	if (f->process_file) {
		yajl_val v = NULL;
		if (rune_json_parse_file(f->process_file, 4 << 20, &v, err) < 0)
			return -1;
		int r = librune_config_parse_process(v, f->process_file, p, err);
		yajl_tree_free(v);
		return r;
	}
	if (nargs == 0)
		return rune_error(err, 0,
		                  "exec: \"exec [command options] <container-id> <command> [command options]\" "
		                  "requires a minimum of 2 argument(s)");
	if (librune_config_parse_process(rune_json_get(c->config->tree, "process"), "process", p, err) < 0)
		return -1;
	cleanup_strvp(&p->args);
	for (int i = 0; i < nargs; i++)
		rune_strv_append(&p->args, args[i]);
	p->terminal = f->tty;
	for (char **e = f->env; e && *e; e++)
		rune_strv_append(&p->env, *e);
	if (f->cwd) {
		free(p->cwd);
		p->cwd = xstrdup(f->cwd);
	}
	if (f->user && parse_user_flag(f->user, p, err) < 0)
		return -1;
	if (f->apparmor) {
		free(p->apparmor_profile);
		p->apparmor_profile = xstrdup(f->apparmor);
	}
	if (f->label) {
		free(p->selinux_label);
		p->selinux_label = xstrdup(f->label);
	}
	for (char **gs = f->gids; gs && *gs; gs++) {
		unsigned long gid;
		if (!rune_parse_ulong(*gs, &gid))
			return rune_error(err, 0, "--additional-gids: \"%s\" is not a number", *gs);
		p->additional_gids = xrealloc(p->additional_gids, (p->n_additional_gids + 1) * sizeof(gid_t));
		p->additional_gids[p->n_additional_gids++] = gid;
	}
	for (char **cp = f->caps; cp && *cp; cp++) {
		int cap = librune_capability_from_name(*cp);
		if (cap < 0)
			return rune_error(err, 0, "--cap: unknown capability \"%s\"", *cp);
		p->caps.present = true;
		p->caps.bounding |= 1ULL << cap;
		p->caps.effective |= 1ULL << cap;
		p->caps.permitted |= 1ULL << cap;
		p->caps.ambient |= 1ULL << cap;
	}
	if (f->no_new_privs)
		p->no_new_privileges = true;
	return 0;
}

static int parse_exec_flags(int argc, char **argv, struct exec_flags *f, struct exec_opts *o, rune_error_t *err)
{
	static const struct option opts[] = {
		{ "console-socket", required_argument, NULL, 'S' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "tty", no_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "process", required_argument, NULL, 'p' },
		{ "detach", no_argument, NULL, 'd' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "process-label", required_argument, NULL, 'L' },
		{ "apparmor", required_argument, NULL, 'A' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ "cap", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'F' },
		{ "cgroup", required_argument, NULL, 'C' },
		{ "ignore-paused", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	int ch;

	while ((ch = getopt_long_only(argc, argv, "+e:tu:g:p:dc:", opts, NULL)) != -1) {
		switch (ch) {
		case 'S':
			o->console_socket = optarg;
			break;
		case 'w':
			f->cwd = optarg;
			break;
		case 'e':
			rune_strv_append(&f->env, optarg);
			break;
		case 't':
			f->tty = true;
			break;
		case 'u':
			f->user = optarg;
			break;
		case 'g':
			rune_strv_append(&f->gids, optarg);
			break;
		case 'p':
			f->process_file = optarg;
			break;
		case 'd':
			o->detach = true;
			break;
		case 'P':
			o->pid_file = optarg;
			break;
		case 'n':
			f->no_new_privs = true;
			break;
		case 'c':
			rune_strv_append(&f->caps, optarg);
			break;
		case 'F':
			if (!rune_parse_ulong(optarg, &n) || n > 4096)
				return rune_error(err, 0, "--preserve-fds: invalid value \"%s\"", optarg);
			o->preserve_fds = n;
			break;
		case 'L':
			f->label = optarg;
			break;
		case 'A':
			f->apparmor = optarg;
			break;
		case 'C':
			rune_strv_append(&o->cgroup_paths, optarg);
			break;
		case 'I':
			o->ignore_paused = true;
			break;
		default:
			return cli_bad_flag(argv, err);
		}
	}
	if (optind >= argc)
		return rune_error(
		    err, 0,
		    "exec: \"exec [command options] <container-id> <command> [command options]\" requires a "
		    "minimum of 2 argument(s)");
	return 0;
}

static void exec_flags_release(struct exec_flags *f, struct exec_opts *o)
{
	cleanup_strvp(&f->env);
	cleanup_strvp(&f->gids);
	cleanup_strvp(&f->caps);
	cleanup_strvp(&o->cgroup_paths);
}

/* Every failure of exec itself exits 255, as runc's: the process's own codes
 * (including 1) stay distinguishable from rune's. */
int cmd_exec(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	struct exec_flags f = { 0 };
	struct exec_opts o = { 0 };
	struct rune_process proc = { 0 };
	cleanup_container struct rune_container *c = NULL;
	int code = 0;

	int r = parse_exec_flags(argc, argv, &f, &o, err);
	if (r == 0)
		r = librune_container_load(cli->root, argv[optind], &c, err);
	if (r == 0)
		r = build_process(c, &f, argc - optind - 1, argv + optind + 1, &proc, err);
	/* (an enclave's exec runs in its init: rune-exec serves everything else
	 * but an LSM label, which needs rune to run sealed itself) */
	if (r == 0 && !c->config->enclave && librune_sealed_exe_needed(NULL, &proc))
		r = cli_run_sealed(cli, err);
	o.process = &proc;
	if (r == 0)
		r = librune_container_exec(c, &o, &code, err);
	librune_process_release(&proc);
	exec_flags_release(&f, &o);
	if (r < 0)
		return rune_error_set_exit(err, EXEC_FAILED);
	cli->exit_code = o.detach ? 0 : code;
	return 0;
}
