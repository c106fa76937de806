/* cgroupfs driver: finds the v1, hybrid or v2 hierarchies, places a container
 * in its cgroupsPath, freezes, lists, limits and removes it. */
#ifndef RUNE_CGROUP_H
#define RUNE_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "error.h"
#include "resources.h"

struct rune_device;

struct cgroup_hier {
	char *mountpoint;  /* e.g. /sys/fs/cgroup/memory */
	char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
	bool v2;
	char *dir;    /* this container's directory in the hierarchy */
	bool created; /* made by this create (not saved: only for undoing it) */
};

struct rune_cgroup {
	size_t n;
	struct cgroup_hier *h;
};

enum cgroup_mode { CGROUP_V1, CGROUP_HYBRID, CGROUP_V2 };

/* What kind of host this is, from the filesystem at /sys/fs/cgroup. */
enum cgroup_mode librune_cgroup_host_mode(void);
/* The container's cgroup from cgroupsPath (or /<id> when empty): plan
 * (its directories, and which do not exist yet), then make them. */
int librune_cgroup_plan(const char *cgroups_path, const char *id, struct rune_cgroup **out, rune_error_t *err);
int librune_cgroup_make(struct rune_cgroup *cg, rune_error_t *err);
/* The hierarchies this host has mounted, with no directory chosen (what
 * controllers there are). */
int librune_cgroup_hierarchies(struct rune_cgroup **out, rune_error_t *err);
/* The cgroup pid is in now, in every hierarchy (for one systemd placed). */
int librune_cgroup_adopt(pid_t pid, struct rune_cgroup **out, rune_error_t *err);
/* Ask systemd to put pid in a transient, delegated scope unit named after
 * cgroupsPath ("slice:prefix:name", default system.slice:rune:<id>), then
 * adopt the cgroup it made (cgroup_systemd.c). */
int librune_cgroup_systemd_place(const char *cgroups_path, const char *id, pid_t pid, struct rune_cgroup **out,
                                 rune_error_t *err);
/* Move pid into every hierarchy of the cgroup. */
int librune_cgroup_enter(const struct rune_cgroup *cg, pid_t pid, rune_error_t *err);
/* How a new process enters the container's cgroup (or, for exec --cgroup,
 * its sub-cgroups: each spec "path", every hierarchy, or
 * "controller[,controller]:path", the path below the container's cgroup)
 * without the kernel's global threadgroup lock, whose writer first waits out
 * an RCU grace period — milliseconds, on every start that finds the lock
 * idle. The process is born in the cgroup2 directory (clone3's
 * CLONE_INTO_CGROUP, spawn.h), and, while single-threaded, moves itself into
 * the v1 hierarchies through their `tasks` files: the two migrations the
 * kernel makes without that lock. rune opens both beforehand, since the
 * process may no longer see the host's /sys/fs/cgroup. */
struct cgroup_entry {
	size_t n;    /* one per hierarchy */
	char **dirs; /* the directories */
	int *fds;    /* v1: its `tasks`, write-only; cgroup2: the directory (O_PATH) */
	size_t v2;   /* which one is cgroup2, when v2_fd >= 0 */
	int v2_fd;   /* -1: no cgroup2 hierarchy */
};
/* Open them (cg NULL: an empty entry). */
int librune_cgroup_entry_open(const struct rune_cgroup *cg, char *const *specs, struct cgroup_entry *e,
                              rune_error_t *err);
/* In the new process, first thing: join the v1 hierarchies; closes the fds. */
int librune_cgroup_entry_join_v1(const struct cgroup_entry *e, rune_error_t *err);
/* In rune, for a process not born in the cgroup2 directory: move it there. */
int librune_cgroup_entry_join_v2(const struct cgroup_entry *e, pid_t pid, rune_error_t *err);
void librune_cgroup_entry_close(struct cgroup_entry *e);
#define cleanup_cgroup_entry __attribute__((cleanup(librune_cgroup_entry_close)))
/* Before anything exists: refuse resources whose controller this host lacks
 * (and the unified map anywhere but on a cgroup v2 host), naming the field. */
int librune_cgroup_check_resources(const struct rune_resources *res, rune_error_t *err);
/* Apply linux.resources (or an update's LinuxResources) to the cgroup
 * (cgroup_resources.c). NULL applies nothing. */
int librune_cgroup_apply_resources(const struct rune_cgroup *cg, const struct rune_resources *res, rune_error_t *err);
/* Program the devices controller (v1 lists, v2 eBPF) from linux.resources.devices
 * plus the devices every container gets and the nodes of linux.devices. */
int librune_cgroup_apply_devices(const struct rune_cgroup *cg, const struct rune_resources *res,
                                 const struct rune_device *nodes, size_t n_nodes, rune_error_t *err);
/* Pids of every process in the container's cgroup. */
int librune_cgroup_pids(const struct rune_cgroup *cg, pid_t **pids, size_t *n, rune_error_t *err);
/* Freeze (true) or thaw (false), waiting until the kernel reports the new state. */
int librune_cgroup_freeze(const struct rune_cgroup *cg, bool freeze, rune_error_t *err);
/* Whether the cgroup is frozen now. */
bool librune_cgroup_is_frozen(const struct rune_cgroup *cg);
/* Remove the cgroup directories (waiting briefly for exiting tasks). */
int librune_cgroup_destroy(const struct rune_cgroup *cg, rune_error_t *err);
/* Undo cgroup_create: remove only the directories it made. */
void librune_cgroup_undo_create(const struct rune_cgroup *cg);
/* How many processes the kernel OOM-killed in the cgroup so far (-1: unknown). */
long long librune_cgroup_oom_kills(const struct rune_cgroup *cg);
/* Write the runc-style "stats" object for `events`. */
void librune_cgroup_stats(const struct rune_cgroup *cg, yajl_gen g);
/* Serialise to / restore from the state file. */
void librune_cgroup_to_json(const struct rune_cgroup *cg, yajl_gen g);
/* The same, only the hierarchies this create makes (only_created). */
void librune_cgroup_to_json_filtered(const struct rune_cgroup *cg, bool only_created, yajl_gen g);
int librune_cgroup_from_json(yajl_val v, struct rune_cgroup **out, rune_error_t *err);
/* Free. */
void librune_cgroup_free(struct rune_cgroup *cg);
/* Write value to dir/file. */
int librune_cg_write(const char *dir, const char *file, const char *value, rune_error_t *err);
/* Contents of dir/file, or NULL. */
char *librune_cg_read(const char *dir, const char *file);
/* The hierarchy holding `controller` ("memory", "freezer", ...) or NULL. */
const struct cgroup_hier *librune_cgroup_find(const struct rune_cgroup *cg, const char *controller);

#endif
