/* What the enclave runtimes shipped in pal/ share: the table of enclave
 * processes (created stopped, released by pal_exec, waited for) and a logger
 * that honours the PAL log level. Not part of the PAL ABI. */
#ifndef RUNE_PALPROC_H
#define RUNE_PALPROC_H

#include <linux/filter.h>
#include <stdbool.h>

#include "array.h"
#include "pal.h"

/* Tune how processes start; filter (optional) is installed with no_new_privs
 * just before execve. */
void palproc_configure(const struct sock_fprog *filter);
/* Where the enclave's processes run, for image mode: the root they see (the
 * enclave host has already entered it: "/"; programs are looked up there),
 * the working directory and, when set_ids, the ids to switch to. */
struct palproc_root {
	const char *path; /* NULL or "/": this process's root */
	const char *cwd;  /* NULL: inherited */
	bool set_ids;
	unsigned uid, gid;
};
/* Set (root != NULL) or clear the root for processes created after this;
 * root's strings must outlive them. */
void palproc_set_root(const struct palproc_root *root);
/* Fork a process for path (searched in env's PATH when it has no '/') that
 * waits for palproc_exec; 0 and its pid, or -errno. */
int palproc_create(const char *path, const char **argv, const char **env, const struct pal_stdio_fds *stdio, int *pid);
/* Let pid run and wait for it; its wait status. 0 or -errno. */
int palproc_exec(int pid, int *status);
/* Signal pid (> 0), the first process (0) or every process (-1). 0 or -errno. */
int palproc_kill(int pid, int sig);
/* Kill and reap every process left. */
void palproc_destroy(void);

enum pal_log_level { PAL_LOG_TRACE, PAL_LOG_DEBUG, PAL_LOG_INFO, PAL_LOG_WARNING, PAL_LOG_ERROR, PAL_LOG_OFF };
/* Set the PAL's name (log prefix) and level (a pal_attr_t log_level string). */
void pal_log_setup(const char *name, const char *level);
/* Log to stderr if level is at or above the configured one. */
void pal_log(enum pal_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
