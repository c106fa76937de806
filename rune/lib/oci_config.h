/* The OCI runtime-spec config.json as rune uses it: parsed once into plain C
 * structures, every type error naming the JSON field. */
#ifndef RUNE_OCI_CONFIG_H
#define RUNE_OCI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>

#include "error.h"

struct rune_mount {
	char *destination, *type, *source;
	char **options;
	unsigned long flags;         /* MS_* to set */
	unsigned long propagation;   /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) */
	uint64_t attr_set, attr_clr; /* recursive MOUNT_ATTR_* ("rro", "rnosuid", ...) */
	char *data;                  /* options the kernel interprets (mode=, size=, ...) */
	bool bind;
	int idmap;                            /* 0, 1 ("idmap"), 2 ("ridmap": recursive) */
	struct rune_idmap *uid_map, *gid_map; /* the mount's mappings (else the container's) */
	size_t n_uid_map, n_gid_map;
};

struct rune_rlimit {
	int resource;
	uint64_t soft, hard;
	char *name;
};

struct rune_hook {
	char *path;
	char **args, **env;
	int timeout; /* seconds, 0 = none */
};

struct rune_hook_list {
	struct rune_hook *v;
	size_t n;
};

enum rune_hook_kind {
	HOOK_PRESTART,
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
	HOOK_KINDS
};

struct rune_caps {
	bool present;
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct rune_process {
	bool terminal;
	unsigned console_width, console_height;
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	mode_t umask;
	char **args, **env;
	char *cwd;
	struct rune_caps caps;
	struct rune_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile, *selinux_label;
	/* process.scheduler (sched_setattr) and process.ioPriority (ioprio_set) */
	bool has_scheduler;
	struct {
		uint32_t policy;
		int32_t nice;
		uint32_t priority;
		uint64_t flags, runtime, deadline, period;
	} scheduler;
	bool has_io_priority;
	int io_class, io_priority;
};

/* Namespace kinds, in the order they must be joined (user first, mount last). */
enum rune_ns_kind { NS_USER, NS_PID, NS_NET, NS_IPC, NS_UTS, NS_CGROUP, NS_TIME, NS_MOUNT, NS_KINDS };

struct rune_namespace {
	bool present;
	char *path; /* join this one instead of creating it */
};

struct rune_idmap {
	uint32_t container_id, host_id, size;
};

struct rune_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	bool has_mode;
	mode_t mode;
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

struct rune_config {
	yajl_val tree; /* the parsed document, kept for annotations and resources */
	char *oci_version;
	char *root_path; /* as written, may be relative to the bundle */
	bool root_readonly;
	char *hostname, *domainname;
	bool has_process;
	struct rune_process process;
	struct rune_mount *mounts;
	size_t n_mounts;
	struct rune_hook_list hooks[HOOK_KINDS];
	yajl_val annotations; /* object or NULL, points into tree */
	struct rune_namespace ns[NS_KINDS];
	struct rune_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct rune_device *devices;
	size_t n_devices;
	char *cgroups_path;
	unsigned long rootfs_propagation; /* 0 = default */
	char **masked_paths, **readonly_paths;
	char **sysctl_keys, **sysctl_values;
	struct rune_resources *resources; /* linux.resources parsed (resources.h), or NULL */
	char *mount_label;
	struct rune_enclave *enclave;        /* NULL for a plain container (enclave.h) */
	struct rune_seccomp *seccomp_filter; /* linux.seccomp parsed (seccomp.h), or NULL */
	bool has_personality;
	unsigned long personality; /* PER_LINUX or PER_LINUX32 */
	char *time_offsets;        /* linux.timeOffsets as /proc/PID/timens_offsets text, or NULL */
};

#define CONFIG_MAX_BYTES (4 * 1024 * 1024) /* the largest config.json read */

/* Parse config.json text; `where` names the file in errors. */
int librune_config_parse(const char *text, const char *where, struct rune_config **out, rune_error_t *err);
/* Load and parse a config file. */
int librune_config_load(const char *path, struct rune_config **out, rune_error_t *err);
/* Parse a "process" object (config.process or exec --process) into p. */
int librune_config_parse_process(yajl_val v, const char *where, struct rune_process *p, rune_error_t *err);
/* Free everything a config owns. */
void librune_config_free(struct rune_config *c);
/* Free what a process owns (not p itself). */
void librune_process_release(struct rune_process *p);
/* In rune, before the init is spawned (mount_sources.c): a detached
 * idmapped mount for each mount that asks for one, and the source of every
 * bind mount of a user-namespaced container, opened with the host's
 * credentials. *fds gets one entry per mount (-1: none; NULL when no mount
 * needs one), inherited by the init; runtime state, not config. */
int librune_mount_sources_prepare(const struct rune_config *c, int **fds, rune_error_t *err);
/* Close what mount_sources_prepare opened (in rune, once the init has them). */
void librune_mount_sources_close(int *fds, size_t n);
/* Write mappings ("cid hid size" lines) to /proc/<pid>/<file> (uid_map or gid_map). */
int librune_idmap_write(pid_t pid, const char *file, const struct rune_idmap *m, size_t n, rune_error_t *err);
/* Parse mount options into flags, propagation, recursive attrs and data. */
int librune_mount_options_parse(struct rune_mount *m, const char *where, rune_error_t *err);
/* The canonical spec name of a namespace kind ("pid", "network", ...). */
const char *librune_ns_kind_name(enum rune_ns_kind k);
/* The CLONE_NEW* flag of a namespace kind. */
int librune_ns_kind_clone_flag(enum rune_ns_kind k);
/* The /proc/PID/ns/ file name of a namespace kind ("net", "mnt", ...). */
const char *librune_ns_kind_proc_name(enum rune_ns_kind k);
/* Name of a hook kind as in config.json ("createRuntime"). */
const char *librune_hook_kind_name(enum rune_hook_kind k);
/* Capability number of "CAP_FOO", or -1. */
int librune_capability_from_name(const char *name);

/* Does the container get a new namespace of kind k (rather than none, or joining one)? */
static inline bool config_ns_new(const struct rune_config *c, enum rune_ns_kind k)
{
	return c->ns[k].present && c->ns[k].path == NULL;
}

static inline void config_freep(struct rune_config **c)
{
	if (*c)
		librune_config_free(*c);
}
#define cleanup_config __attribute__((cleanup(config_freep)))

#endif
