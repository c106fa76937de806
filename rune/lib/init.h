/* The container's init: the process rune clones into the container's new
 * namespaces. It sets the container up step by step under rune's eye (sync
 * socket), reports READY, and waits for `start` on exec.fifo. */
#ifndef RUNE_INIT_H
#define RUNE_INIT_H

#include "cgroup.h"
#include "oci_config.h"
#include "container.h"

struct init_args {
	const struct create_opts *o;
	const struct rune_config *config;
	const char *rootfs;
	const struct rune_cgroup *cgroup;        /* NULL with --systemd-cgroup: placed after spawning */
	const struct cgroup_entry *cgroup_entry; /* the v1 hierarchies the init joins itself */
	int cgroup_ns_fd;                        /* a cgroup namespace to join (linux.namespaces path), or -1 */
	const int *mount_fds;                    /* per mount: what rune opened for it, or -1 */
	int sync_fd, console_fd, fifo_fd;
	int lock_fd; /* rune's flock on the state dir: must not stay held by the init */
	/* Enclave containers only (else -1). */
	int exec_listen_fd, status_fd;
	int dmz_fd; /* rune-exec's sealed memfd (dmz.h), or -1: rune runs sealed, the init execs directly */
};

/* The init's whole life; never returns. */
void librune_init_main(struct init_args *a) __attribute__((noreturn));

#endif
