/* A container as rune keeps it: state under --root/<id>, its status read from
 * the kernel, and the lifecycle operations runc offers. */
#ifndef RUNE_CONTAINER_H
#define RUNE_CONTAINER_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>

#include "cgroup.h"
#include "oci_config.h"
#include "error.h"

#define RUNE_OCI_VERSION "1.2.0"

enum rune_status { STATUS_CREATING, STATUS_CREATED, STATUS_RUNNING, STATUS_PAUSED, STATUS_STOPPED };

struct rune_container {
	char *root, *id, *dir;
	int lock_fd;
	pid_t pid;
	unsigned long long start_time; /* of pid, from /proc/<pid>/stat, against pid reuse */
	char *bundle, *rootfs, *created;
	struct rune_cgroup *cgroup;
	struct rune_config *config; /* the copy of config.json taken at create */
	/* Enclave containers: what the init reported at create. */
	int pal_version;
	char *measurement; /* hex, PAL v3 only */
	bool enclave_debug;
	char *enclave_info; /* the runtime's JSON object (image mode: image, digest, policy, KBS), or NULL */
};

struct create_opts {
	const char *root, *id, *bundle, *console_socket, *pid_file;
	bool no_pivot, no_new_keyring, systemd_cgroup;
	int preserve_fds;
	int listen_fds;         /* LISTEN_FDS from systemd socket activation */
	bool foreground;        /* `run` without --detach: rune stays the parent */
	int console_master_out; /* foreground + terminal: receives the pty master */
	/* For the re-exec a container may need (sealed_exe.h): rune's argv, and
	 * the signal mask to restore first (NULL: the current one). */
	char **argv;
	const sigset_t *argv_sigmask;
};

struct exec_opts {
	struct rune_process *process;
	const char *console_socket, *pid_file;
	bool detach, ignore_paused;
	int preserve_fds;
	char **cgroup_paths;  /* --cgroup: "path" or "controller[,controller]:path", below the container's */
	bool personality_set; /* from the container's linux.personality */
	unsigned long personality;
};

/* runc's rule for ids: letters, digits, '_', '+', '-', '.'; not "." or "..". */
int librune_container_validate_id(const char *id, rune_error_t *err);
/* A container object for id under root, nothing on disk yet (id checked). */
int librune_container_new(const char *root, const char *id, struct rune_container **out, rune_error_t *err);
/* Load the state of `id` under root, holding its lock until freed. */
int librune_container_load(const char *root, const char *id, struct rune_container **out, rune_error_t *err);
/* Let other commands on the container proceed (pause, resume, kill, delete)
 * while this one waits; the state directory stays open. */
void librune_container_unlock(struct rune_container *c);
/* Persist the state atomically. */
int librune_container_save(struct rune_container *c, rune_error_t *err);
/* Free (and unlock). */
void librune_container_free(struct rune_container *c);
/* The status now, as runc computes it. */
enum rune_status librune_container_status(const struct rune_container *c);
/* "created", "running", ... */
const char *librune_status_name(enum rune_status s);
/* The runc state object (ociVersion, id, pid, status, bundle, rootfs, created,
 * annotations, owner) into g. */
void librune_container_gen_state(const struct rune_container *c, enum rune_status s, const char *owner, yajl_gen g);
/* The state object passed to hooks on stdin. */
char *librune_container_hook_state(const char *id, const char *bundle, pid_t pid, const char *status,
                                   const struct rune_config *config);
/* Ids of all containers under root, sorted. */
int librune_container_list_ids(const char *root, char ***ids, rune_error_t *err);
/* Send a signal to the init or, with all, to every process of the container. */
int librune_container_kill(struct rune_container *c, int sig, bool all, rune_error_t *err);
/* Remove root/id and everything in it, state.json first. */
int librune_container_remove_state(const char *root, const char *id, rune_error_t *err);
/* create: record the cgroup directories it is about to make, in the state
 * directory, before it makes them. */
int librune_container_record_cgroup(const struct rune_container *c, rune_error_t *err);
/* What a create killed before it saved the state left (a state directory
 * without state.json): the processes in the cgroups it recorded, those
 * cgroups, the directory. A create still running is waited for (up to a
 * minute): 1 when it completed (a container to delete), 0 when what it
 * left is gone (or there was nothing), -1 on error. */
int librune_container_remove_leftover(const char *root, const char *id, rune_error_t *err);
/* The exit code an enclave workload ended with, or -1 if unknown. */
int librune_container_enclave_exit_code(const struct rune_container *c);
/* `exec` into an enclave container: a new process in the same enclave. */
int librune_enclave_exec(struct rune_container *c, struct exec_opts *o, int *exit_code, rune_error_t *err);
/* Remove a container: kill it (force), remove its cgroup, poststop hooks, state. */
int librune_container_delete(struct rune_container *c, bool force, rune_error_t *err);
/* Let a created container run its process; runs poststart hooks. */
int librune_container_start(struct rune_container *c, rune_error_t *err);
/* Create a container (create, or the first half of run). */
int librune_container_create(struct create_opts *o, struct rune_container **out, rune_error_t *err);
/* Run a new process in a running container; exit_code is set when not detached.
 * Returns -1 when rune itself failed (callers exit 255, as runc). */
int librune_container_exec(struct rune_container *c, struct exec_opts *o, int *exit_code, rune_error_t *err);
/* Foreground: forward signals (and proxy the pty) until pid exits; its status. */
int librune_wait_foreground(pid_t pid, int pty_master, int *exit_code, rune_error_t *err);
/* Read pid's start time from /proc; 0 if it does not exist. */
unsigned long long librune_proc_start_time(pid_t pid, char *state);
/* Write a pid file atomically. */
int librune_write_pid_file(const char *path, pid_t pid, rune_error_t *err);

static inline void container_freep(struct rune_container **c)
{
	if (*c)
		librune_container_free(*c);
}
#define cleanup_container __attribute__((cleanup(container_freep)))

#endif
