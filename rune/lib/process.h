/* Turning the current process into the container's process: rlimits, user,
 * capabilities, no_new_privs, cwd, terminal, and the final execve. Shared by a
 * container's init and by `exec`. */
#ifndef RUNE_PROCESS_H
#define RUNE_PROCESS_H

#include <stdbool.h>

#include "oci_config.h"
#include "error.h"

/* Resolve args[0] against the PATH in the process env, as execvp would. */
int librune_process_find_executable(const struct rune_process *p, char **path, rune_error_t *err);
/* Enter process.cwd, resolved inside this process's root (never through a
 * magic link: CVE-2024-21626) and entered with fchdir on what was resolved.
 * With may_defer, a cwd root may not enter is left for librune_process_apply to
 * enter as the user (*entered false). */
int librune_process_enter_cwd(const struct rune_process *p, bool may_defer, bool *entered, rune_error_t *err);
/* Apply rlimits, oomScoreAdj, groups, uid/gid, capabilities and umask; enter
 * the cwd as the user unless cwd_entered. */
int librune_process_apply(const struct rune_process *p, bool cwd_entered, rune_error_t *err);
/* Set no_new_privs when asked (last step before exec, as runc orders it). */
int librune_process_apply_nnp(const struct rune_process *p, rune_error_t *err);
/* The security-critical tail shared by a container's init and `exec`: fds
 * from 3+preserve_fds marked close-on-exec (all but keep_fd, if >= 0: see
 * librune_process_prepare_fds), the seccomp filter (its listener
 * fd handed to rune over sync_fd), librune_process_apply and no_new_privs, in runc's
 * order. */
struct rune_seccomp;
int librune_process_drop_privileges(const struct rune_process *p, const struct rune_seccomp *sc, int sync_fd,
                                    bool cwd_entered, int preserve_fds, int keep_fd, rune_error_t *err);
/* A session of its own and, given console_fd (closed here), the terminal
 * (librune_console_setup). */
int librune_process_new_session(int console_fd, const struct rune_process *p, bool bind_console, rune_error_t *err);
/* linux.personality, when the config sets one. */
int librune_process_set_personality(const struct rune_config *c, rune_error_t *err);
/* Open a pty in the container's devpts, send the master to console_sock,
 * make the slave our controlling terminal and stdio; bind it on /dev/console
 * when bind_console is set. */
int librune_console_setup(int console_sock, const struct rune_process *p, bool bind_console, rune_error_t *err);
/* Mark fds from 3+preserve_fds on close-on-exec; clear it on the preserved
 * ones and on keep_fd (-1: none), the status descriptor rune-exec inherits —
 * cleared before the seccomp filter where possible, which may refuse fcntl. */
void librune_process_prepare_fds(int preserve_fds, int keep_fd);
/* Reset signals, close fds from 3+preserve_fds on, execve — through rune-exec
 * when dmz_fd >= 0 (dmz.h: status_fd then learns whether the workload's own
 * execve worked), else directly. Returns only on failure. */
int librune_process_exec(const char *path, const struct rune_process *p, int preserve_fds, int dmz_fd, int status_fd,
                         rune_error_t *err);

#endif
