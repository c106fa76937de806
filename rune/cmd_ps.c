#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "rune_cli.h"
#include "container.h"
#include "json.h"
#include "util.h"

static bool has_pid(const pid_t *pids, size_t n, long p)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == p)
			return true;
	return false;
}

/* Run ps with the user's arguments and keep the header and our processes. */
static int ps_table(char **ps_args, const pid_t *pids, size_t n, rune_error_t *err)
{
	int fds[2];
	if (pipe(fds) < 0)
		return rune_error(err, errno, "pipe");
	pid_t child = fork();
	if (child == 0) {
		size_t na = rune_strv_len(ps_args);
		char **argv = xcalloc(na + 3, sizeof(char *));
		argv[0] = "ps";
		if (na == 0)
			argv[1] = "-ef";
		for (size_t i = 0; i < na; i++)
			argv[i + 1] = ps_args[i];
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp("ps", argv);
		_exit(127);
	}
	close(fds[1]);
	cleanup_free char *out = NULL;
	int status = 0;
	int r = rune_read_fd_all(fds[0], "ps output", 64 << 20, &out, NULL, err);
	close(fds[0]);
	waitpid(child, &status, 0);
	if (r < 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return rune_error(err, 0, "ps failed (exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : 255);
	char *save = NULL, *line = strtok_r(out, "\n", &save);
	if (line == NULL)
		return 0;
	/* Find the PID column in the header. */
	int col = -1, i = 0;
	cleanup_free char *hdr = xstrdup(line);
	char *hs = NULL;
	for (char *t = strtok_r(hdr, " \t", &hs); t; t = strtok_r(NULL, " \t", &hs), i++)
		if (strcmp(t, "PID") == 0)
			col = i;
	if (col < 0)
		return rune_error(err, 0, "couldn't find PID field in ps output");
	printf("%s\n", line);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		cleanup_free char *copy = xstrdup(line);
		char *ls = NULL, *t = strtok_r(copy, " \t", &ls);
		for (int k = 0; k < col && t; k++)
			t = strtok_r(NULL, " \t", &ls);
		if (t && has_pid(pids, n, strtol(t, NULL, 10)))
			printf("%s\n", line);
	}
	return 0;
}

int cmd_ps(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	cleanup_container struct rune_container *c = NULL;
	const char *format = "table";
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	int ch;

	while ((ch = getopt_long_only(argc, argv, "+f:", opts, NULL)) != -1) {
		if (ch != 'f')
			return rune_error(err, 0, "ps: invalid flags");
		format = optarg;
	}
	if (optind >= argc)
		return rune_error(err, 0,
		                  "ps: \"ps [command options] <container-id> [ps options]\" requires a minimum of 1 "
		                  "argument(s)");
	if (librune_container_load(cli->root, argv[optind], &c, err) < 0)
		return -1;
	/* A stopped container lists what is left in its cgroup (usually nothing), as runc does. */
	if (librune_cgroup_pids(c->cgroup, &pids, &n, err) < 0)
		return -1;
	if (strcmp(format, "json") == 0) {
		yajl_gen gen = rune_json_gen_new(false, NULL);
		yajl_gen_array_open(gen);
		for (size_t i = 0; i < n; i++)
			yajl_gen_integer(gen, pids[i]);
		yajl_gen_array_close(gen);
		cli_print_json(gen);
		return 0;
	}
	if (strcmp(format, "table") != 0)
		return rune_error(err, 0, "invalid format option");
	return ps_table(argv + optind + 1, pids, n, err) < 0 ? -1 : 0;
}
