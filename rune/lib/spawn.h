/* Starting a process inside namespaces: new ones through clone(2), existing
 * ones through setns(2) in a short-lived intermediate process, so that pid and
 * user namespaces take effect. The new process is always rune's own child. */
#ifndef RUNE_SPAWN_H
#define RUNE_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "oci_config.h"
#include "error.h"

struct spawn_opts {
	int clone_flags;          /* CLONE_NEW* of the namespaces to create */
	bool new_time_ns;         /* create a time namespace (unshare before the clone) */
	const char *time_offsets; /* linux.timeOffsets for it, or NULL */
	/* A cgroup2 directory the process is born in (clone3's
	 * CLONE_INTO_CGROUP), or -1. */
	int cgroup_fd;
};

/* Join the namespaces in ns_fds (indexed by enum rune_ns_kind, -1 = skip) but
 * the cgroup one, and clone as o says. Returns like fork: 0 in the child, the
 * pid in the parent, -1 on error. *born_in_cgroup says whether the process
 * was born in o->cgroup_fd's cgroup; when not (a kernel before 5.7, a seccomp
 * profile refusing clone3, a cgroup rune may not place it in directly), the
 * caller moves it there. */
pid_t librune_spawn_in_namespaces(const int ns_fds[NS_KINDS], const struct spawn_opts *o, bool *born_in_cgroup,
                                  rune_error_t *err);
/* The new process joins the cgroup namespace (fd, ns_fds[NS_CGROUP]; -1:
 * none) itself, first thing: a process cannot be born into a cgroup outside
 * the cgroup namespace it is cloned from, and it reports a failure on its own
 * channel to rune, which knows to wait for a process in a frozen cgroup. */
int librune_spawn_join_cgroup_ns(int fd, rune_error_t *err);

#endif
