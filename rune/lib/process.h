/* Turning the current process into the container's process: rlimits, user,
 * capabilities, no_new_privs, cwd, terminal, and the final execve. Shared by a
 * container's init and by `exec`. */
#ifndef RUNE_PROCESS_H
#define RUNE_PROCESS_H

#include <stdbool.h>

#include "config.h"
#include "error.h"

/* Resolve args[0] against the PATH in the process env, as execvp would. */
int process_find_executable(const struct rune_process *p, char **path, rune_error_t *err);
/* Apply rlimits, oomScoreAdj, groups, uid/gid, capabilities, umask and cwd. */
int process_apply(const struct rune_process *p, rune_error_t *err);
/* Set no_new_privs when asked (last step before exec, as runc orders it). */
int process_apply_nnp(const struct rune_process *p, rune_error_t *err);
/* Open a pty in the container's devpts, send the master to console_sock,
 * make the slave our controlling terminal and stdio; bind it on /dev/console
 * when bind_console is set. */
int console_setup(int console_sock, const struct rune_process *p, bool bind_console, rune_error_t *err);
/* Mark fds from 3+preserve_fds on close-on-exec; clear it on the preserved ones. */
void process_prepare_fds(int preserve_fds);
/* Reset signals, close fds from 3+preserve_fds on, execve. Returns only on failure. */
int process_exec(const char *path, const struct rune_process *p, int preserve_fds, rune_error_t *err);
/* The bounding set of this process as a bitmask. */
uint64_t process_bounding_set(void);

#endif
