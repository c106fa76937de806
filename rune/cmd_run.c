#include <getopt.h>
#include <signal.h>
#include <unistd.h>

#include "container.h"
#include "error.h"
#include "rune_cli.h"

/* Remove a container that `run` created, after its process ended or failed. */
static void remove_run_container(const char *root, const char *id)
{
	struct rune_container *c = NULL;
	rune_error_t e = NULL;
	if (librune_container_load(root, id, &c, &e) == 0)
		librune_container_delete(c, true, &e);
	rune_error_release(&e);
	librune_container_free(c);
}

int cmd_run(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	struct create_opts o = { .root = cli->root, .systemd_cgroup = cli->systemd_cgroup, .argv = cli->argv };
	struct rune_container *c = NULL;
	bool detach = false, keep = false;
	sigset_t all, old;

	if (cli_parse_create_flags(argc, argv, &o, true, &detach, &keep, err) < 0
	    || cli_require_id(argc, argv, "run [command options] <container-id>", &o.id, err) < 0)
		return -1;
	o.foreground = !detach;
	/* Signals for the container queue up until wait_foreground forwards them. */
	sigfillset(&all);
	if (o.foreground) {
		sigprocmask(SIG_BLOCK, &all, &old);
		o.argv_sigmask = &old;
	}
	if (librune_container_create(&o, &c, err) < 0)
		return -1;
	if (librune_container_start(c, err) < 0) {
		librune_container_free(c);
		remove_run_container(cli->root, o.id);
		return -1;
	}
	pid_t pid = c->pid;
	librune_container_free(c); /* drops the lock: state, kill and exec work meanwhile */
	if (detach)
		return 0;
	if (librune_wait_foreground(pid, o.console_master_out, &cli->exit_code, err) < 0)
		return -1;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!keep)
		remove_run_container(cli->root, o.id);
	return 0;
}
