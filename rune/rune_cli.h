/* rune's CLI: one file per command, each a thin layer over librune. Every
 * command returns 0 or -1 with err filled; the exit code of a failure travels
 * in err (rune_error_set_exit), the exit code of a success in cli->exit_code
 * (run and exec: the container process's). main prints err once. */
#ifndef RUNE_CLI_H
#define RUNE_CLI_H

#include <stdbool.h>

#include "error.h"

struct rune_cli {
	const char *root, *log, *log_format; /* global options */
	bool debug, systemd_cgroup;
	char **argv; /* rune's own argv, for the sealed re-exec */
	int exit_code;
};

/* argv[0] is the command name. */
typedef int (*command_fn)(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);

int cmd_spec(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_create(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_start(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_run(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_state(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_kill(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_delete(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_list(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_ps(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_exec(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_pause(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_resume(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_events(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_update(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);
int cmd_features(struct rune_cli *cli, int argc, char **argv, rune_error_t *err);

/* Exactly one container id after the options; usage names the command's form. */
int cli_require_id(int argc, char **argv, const char *usage, const char **id, rune_error_t *err);
/* A flag getopt did not know. */
int cli_bad_flag(char **argv, rune_error_t *err);
/* Print a yajl_gen buffer (and a newline) to stdout, then free it. */
void cli_print_json(void *gen);
/* Commands that put rune processes into a container run from a sealed copy
 * of rune (CVE-2019-5736): re-exec from one unless already running so. */
int cli_run_sealed(struct rune_cli *cli, rune_error_t *err);
/* The flags create and run share (run adds --detach and --keep). */
struct create_opts;
int cli_parse_create_flags(int argc, char **argv, struct create_opts *o, bool run, bool *detach, bool *keep,
                           rune_error_t *err);

#endif
