/* The container's init, from clone to execve. Its life reads top to bottom
 * in init_main, one step per line, in the order that keeps the host safe:
 * namespaces, then the rootfs (mounts resolved inside it), then pivot_root,
 * then the process's identity, cwd and filter, and only then privileges
 * dropped, READY reported, and the wait for `start`. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "enclave.h"
#include "hooks.h"
#include "log.h"
#include "lsm.h"
#include "process.h"
#include "rootfs.h"
#include "spawn.h"
#include "sync.h"
#include "util.h"

/* What the init learns and keeps along the way. */
struct init_state {
	pid_t host_pid;   /* our pid as the host sees it (from SYNC_GO), for hook states */
	bool cwd_entered; /* process.cwd entered as root (else: as the user, later) */
	char *exe;        /* the program to exec, resolved before privileges go */
};

static const struct sync_peer RUNE = { .name = "rune" };

static int wait_for_go(struct init_args *a, struct init_state *s, rune_error_t *err)
{
	struct sync_msg go;
	if (librune_sync_expect(a->sync_fd, &RUNE, SYNC_GO, &go, err) < 0)
		return -1;
	s->host_pid = go.value;
	log_debug("init %d: ids mapped and cgroup joined, setting up the container", (int) s->host_pid);
	return 0;
}

static int become_root_in_userns(const struct rune_config *c, rune_error_t *err)
{
	if (config_ns_new(c, NS_USER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return rune_error(err, errno, "become root in the user namespace (is id 0 mapped?)");
	return 0;
}

/* Once rune has placed the init in every hierarchy (GO): a new cgroup
 * namespace is rooted at its creator's cgroups, and must be the container's
 * (as runc and crun do; /proc/self/cgroup then reads "0::/"). */
static int make_cgroup_ns(const struct rune_config *c, rune_error_t *err)
{
	if (config_ns_new(c, NS_CGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return rune_error(err, errno, "create the cgroup namespace");
	return 0;
}

static int set_host_and_domain_name(const struct rune_config *c, rune_error_t *err)
{
	if (c->hostname && c->hostname[0]) {
		if (!c->ns[NS_UTS].present)
			return rune_error(err, EINVAL, "hostname: setting it needs a private UTS namespace");
		if (sethostname(c->hostname, strlen(c->hostname)) < 0)
			return rune_error(err, errno, "sethostname %s", c->hostname);
	}
	if (c->domainname && c->domainname[0]) {
		if (!c->ns[NS_UTS].present)
			return rune_error(err, EINVAL, "domainname: setting it needs a private UTS namespace");
		if (setdomainname(c->domainname, strlen(c->domainname)) < 0)
			return rune_error(err, errno, "setdomainname %s", c->domainname);
	}
	return 0;
}

static int bring_up_loopback(const struct rune_config *c, rune_error_t *err)
{
	struct ifreq ifr = { 0 };
	if (!config_ns_new(c, NS_NET))
		return 0;
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return rune_error(err, errno, "socket");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return rune_error(err, errno, "get flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return rune_error(err, errno, "bring lo up");
	return 0;
}

static int join_session_keyring(const struct init_args *a, rune_error_t *err)
{
	if (!a->o->no_new_keyring && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, a->o->id) < 0
	    && errno != ENOSYS && errno != EPERM && errno != EACCES)
		return rune_error(err, errno, "join a session keyring");
	return 0;
}

static int prepare_rootfs(const struct init_args *a, rune_error_t *err)
{
	const struct rune_config *c = a->config;
	if (!c->ns[NS_MOUNT].present)
		return rune_error(err, EINVAL, "linux.namespaces: a mount namespace is required");
	struct rootfs_ctx rc = { .config = c,
		                 .rootfs = a->rootfs,
		                 .cgroup = a->cgroup,
		                 .mount_fds = a->mount_fds,
		                 .userns = c->ns[NS_USER].present };
	log_debug("init %d: mounting the rootfs %s", (int) getpid(), a->rootfs);
	return librune_rootfs_prepare(&rc, err);
}

/* prestart and createRuntime run in rune (host namespaces); createContainer
 * runs here, in the container's mount namespace before pivot_root, in the
 * rootfs (as runc runs it: hooks may name paths relative to it). */
static int run_create_hooks(const struct init_args *a, const struct init_state *s, rune_error_t *err)
{
	struct sync_msg m;
	if (librune_sync_report(a->sync_fd, SYNC_RUNTIME_HOOKS, 0, NULL, -1, err) < 0
	    || librune_sync_expect(a->sync_fd, &RUNE, SYNC_HOOKS_DONE, &m, err) < 0)
		return -1;
	if (a->config->hooks[HOOK_CREATE_CONTAINER].n == 0)
		return 0;
	if (chdir(a->rootfs) < 0)
		return rune_error(err, errno, "chdir %s for the createContainer hooks", a->rootfs);
	cleanup_free char *state =
	    librune_container_hook_state(a->o->id, a->o->bundle, s->host_pid, "created", a->config);
	return librune_hooks_run(a->config->hooks, HOOK_CREATE_CONTAINER, state, err);
}

/* The PAL comes from a host path, so it is loaded before the host goes away. */
static int load_enclave_runtime(const struct init_args *a, rune_error_t *err)
{
	return a->config->enclave ? librune_enclave_init_load(a->config->enclave, err) : 0;
}

/* An enclave runs pal_init inside the container, in process.cwd, while still
 * privileged; a plain container resolves the program it will exec. */
static int prepare_workload(const struct init_args *a, struct init_state *s, rune_error_t *err)
{
	const struct rune_enclave *e = a->config->enclave;
	if (e == NULL)
		return librune_process_find_executable(&a->config->process, &s->exe, err);
	struct enclave_info info;
	char text[2200];
	if (!s->cwd_entered)
		return rune_error(err, EACCES, "process.cwd: root may not enter \"%s\", and pal_init runs as root",
		                  a->config->process.cwd);
	if (librune_enclave_init_create(e, &info, err) < 0)
		return -1;
	snprintf(text, sizeof(text), "%s %d %s", info.has_measurement ? info.measurement : "-", info.debug ? 1 : 0,
	         info.info);
	return librune_sync_report(a->sync_fd, SYNC_ENCLAVE, info.pal_version, text, -1, err);
}

/* An enclave init never execs: it stays the rune binary with the PAL's
 * state, so /proc/1/{exe,mem,fd} must stay out of the workload's reach. */
static int hide_enclave_host(const struct init_args *a, rune_error_t *err)
{
	if (a->config->enclave && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return rune_error(err, errno, "prctl(PR_SET_DUMPABLE)");
	return 0;
}

static int report_ready(const struct init_args *a, rune_error_t *err)
{
	/* From READY on the init must outlive a `rune create` that exits. */
	prctl(PR_SET_PDEATHSIG, 0);
	int r = librune_sync_report(a->sync_fd, SYNC_READY, 0, NULL, -1, err);
	close(a->sync_fd);
	return r;
}

/* `start` opens exec.fifo for reading, which lets this open return. The
 * fifo stays open (close-on-exec) to tell `start` how the exec went: the end
 * of the stream once the workload runs, else a dmz_status. */
static int wait_for_start(const struct init_args *a, int *exec_status, rune_error_t *err)
{
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "/proc/self/fd/%d", a->fifo_fd);
	cleanup_close int w = open(fifo, O_WRONLY | O_CLOEXEC);
	if (w < 0 || write(w, "0", 1) != 1)
		return rune_error(err, errno, "open exec fifo");
	close(a->fifo_fd);
	*exec_status = take_fd(&w);
	return 0;
}

static int run_start_hooks(const struct init_args *a, const struct init_state *s, rune_error_t *err)
{
	cleanup_free char *state =
	    librune_container_hook_state(a->o->id, a->o->bundle, s->host_pid, "running", a->config);
	return librune_hooks_run(a->config->hooks, HOOK_START_CONTAINER, state, err);
}

/* The workload: through the PAL for an enclave (never returns), else execve
 * (through rune-exec unless rune runs sealed). A failed exec is reported to
 * `start` on exec_status — rune-exec does that itself for the workload's
 * execve —; false when the failure is rune's own, to be logged here too. */
static bool start_workload(const struct init_args *a, const struct init_state *s, int exec_status, rune_error_t *err)
{
	const struct rune_process *p = &a->config->process;
	if (a->config->enclave) {
		close(exec_status);
		librune_enclave_init_run(a->config->enclave, p, a->exec_listen_fd, a->status_fd, a->o->preserve_fds);
	}
	if (librune_lsm_apply_on_exec(p, err) < 0)
		return false;
	log_debug("init %d: exec %s", (int) s->host_pid, s->exe);
	librune_process_exec(s->exe, p, a->o->preserve_fds, a->dmz_fd, exec_status, err);
	struct dmz_status st = { SYNC_EXEC_FAILED, *err ? (*err)->status : 0 };
	return write(exec_status, &st, sizeof(st)) == sizeof(st) && a->dmz_fd < 0;
}

void librune_init_main(struct init_args *a)
{
	struct init_state s = { 0 };
	const struct rune_config *c = a->config;
	rune_error_t err = NULL;

	/* Until READY, rune's death is ours: nothing half set up survives it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Still the host's rune binary until rune-exec: out of /proc's reach. */
	if (a->dmz_fd >= 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	close(a->lock_fd);
	/* (before anything else, and before rune may send GO: cgroup.h) */
	if (librune_cgroup_entry_join_v1(a->cgroup_entry, &err) < 0
	    || librune_spawn_join_cgroup_ns(a->cgroup_ns_fd, &err) < 0)
		goto fail;
	if (a->cgroup_ns_fd >= 0)
		close(a->cgroup_ns_fd);
	if (wait_for_go(a, &s, &err) < 0)
		_exit(1);
	if (become_root_in_userns(c, &err) < 0 || make_cgroup_ns(c, &err) < 0)
		goto fail;
	if (set_host_and_domain_name(c, &err) < 0)
		goto fail;
	if (bring_up_loopback(c, &err) < 0)
		goto fail;
	if (join_session_keyring(a, &err) < 0)
		goto fail;
	if (prepare_rootfs(a, &err) < 0)
		goto fail;
	if (run_create_hooks(a, &s, &err) < 0)
		goto fail;
	if (load_enclave_runtime(a, &err) < 0)
		goto fail;
	if (librune_rootfs_pivot(a->rootfs, a->o->no_pivot, &err) < 0)
		goto fail;
	if (librune_process_new_session(a->console_fd, &c->process, true, &err) < 0)
		goto fail;
	if (librune_process_set_personality(c, &err) < 0)
		goto fail;
	if (librune_rootfs_finalize(c, &err) < 0)
		goto fail;
	if (librune_process_enter_cwd(&c->process, true, &s.cwd_entered, &err) < 0)
		goto fail;
	if (prepare_workload(a, &s, &err) < 0)
		goto fail;
	/* (the exec status descriptor is opened later: close-on-exec until the
	 * exec, so no start hook inherits it) */
	if (librune_process_drop_privileges(&c->process, c->seccomp_filter, a->sync_fd, s.cwd_entered,
	                                    a->o->preserve_fds, -1, &err)
	    < 0)
		goto fail;
	if (hide_enclave_host(a, &err) < 0)
		goto fail;
	if (report_ready(a, &err) < 0)
		_exit(1);

	/* The sync socket is closed: from here on a failure can only be logged
	 * (to rune's --log file, or stderr), the one place rune logs instead of
	 * returning an error. The container then stops with status 127. */
	int exec_status = -1;
	if (wait_for_start(a, &exec_status, &err) < 0 || run_start_hooks(a, &s, &err) < 0
	    || !start_workload(a, &s, exec_status, &err))
		rune_log_fatal(err);
	_exit(127);
fail:
	librune_sync_fail(a->sync_fd, err);
}
