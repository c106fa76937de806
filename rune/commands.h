/* rune's CLI: one file per command, each a thin layer over librune. */
#ifndef RUNE_COMMANDS_H
#define RUNE_COMMANDS_H

#include <stdbool.h>

#include "error.h"

struct global_opts {
	const char *root, *log, *log_format;
	bool debug, systemd_cgroup;
};

/* Every command: argv[0] is the command name. Returns the process exit code;
 * on failure fills err and returns the code to exit with (1, or 255 for exec). */
typedef int (*command_fn)(struct global_opts *g, int argc, char **argv, rune_error_t *err);

int cmd_spec(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_create(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_start(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_run(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_state(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_kill(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_delete(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_list(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_ps(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_exec(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_pause(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_resume(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_events(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_update(struct global_opts *g, int argc, char **argv, rune_error_t *err);
int cmd_features(struct global_opts *g, int argc, char **argv, rune_error_t *err);

/* Shared by commands: exactly one container id after the options. */
int require_id(int argc, char **argv, const char *usage, const char **id, rune_error_t *err);
/* Print a yajl_gen buffer (and a newline) to stdout, then free it. */
void print_gen(void *gen);
/* Parse the create flags shared by create and run; returns -1 on a bad flag. */
struct create_opts;
int parse_create_flags(int argc, char **argv, struct create_opts *o, bool run, bool *detach, bool *keep,
                       rune_error_t *err);

#endif
