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
/* Split in two for a new container's init: rune moves it into the cgroup2
 * hierarchies (cgroup.procs), and the init, still single-threaded, moves
 * itself into the v1 ones through their `tasks` files. A thread moving
 * itself is the one migration the kernel makes without its global
 * threadgroup lock, whose writer first waits out an RCU grace period —
 * milliseconds, on every container start that finds the lock idle. */
int librune_cgroup_enter_v2(const struct rune_cgroup *cg, pid_t pid, rune_error_t *err);
int librune_cgroup_enter_self_v1(const struct rune_cgroup *cg, rune_error_t *err);
/* The same, into sub-cgroups: each spec is "path" (every hierarchy) or
 * "controller[,controller]:path", the path below the container's cgroup. */
int librune_cgroup_enter_sub(const struct rune_cgroup *cg, pid_t pid, char *const *specs, rune_error_t *err);
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
