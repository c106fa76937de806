/* `exec`: a new process in a running container's namespaces and cgroup. rune
 * joins the namespaces through a helper (spawn.c) that clones the child into
 * the cgroup (cgroup.h), and lets it go; the child sets itself up step by
 * step, in the same order as the container's init (init.c), and execs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "dmz.h"
#include "container.h"
#include "log.h"
#include "lsm.h"
#include "process.h"
#include "sealed_exe.h"
#include "seccomp_filter.h"
#include "spawn.h"
#include "sync.h"
#include "util.h"

struct exec_child_args {
	const struct exec_opts *o;
	const struct rune_config *config;
	int sync_fd, console_fd;
	int dmz_fd;                              /* rune-exec's memfd, or -1 (rune runs sealed: exec directly) */
	const struct cgroup_entry *cgroup_entry; /* the v1 hierarchies it joins itself */
	int cgroup_ns_fd;                        /* the container's cgroup namespace, or -1 */
};

static int report_ready(const struct exec_child_args *a, rune_error_t *err)
{
	if (librune_sync_report(a->sync_fd, SYNC_READY, 0, NULL, -1, err) < 0)
		return -1;
	/* The death signal guarded the set-up; it survives execve, and a process
	 * started with --detach must outlive the rune that started it. */
	prctl(PR_SET_PDEATHSIG, 0);
	return 0;
}

static void exec_child(const struct exec_child_args *a) __attribute__((noreturn));
static void exec_child(const struct exec_child_args *a)
{
	static const struct sync_peer rune = { .name = "rune" };
	const struct rune_process *p = a->o->process;
	cleanup_free char *exe = NULL;
	rune_error_t err = NULL;
	struct sync_msg go;
	bool cwd_entered = false;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* In the container's PID namespace, and the host's rune binary until
	 * rune-exec: out of the container's /proc reach. */
	if (a->dmz_fd >= 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* (first: cgroup.h; a failure is read after GO) */
	if (librune_cgroup_entry_join_v1(a->cgroup_entry, &err) < 0
	    || librune_spawn_join_cgroup_ns(a->cgroup_ns_fd, &err) < 0) {
		if (librune_sync_expect(a->sync_fd, &rune, SYNC_GO, &go, NULL) == 0)
			goto fail;
		_exit(1);
	}
	if (librune_sync_expect(a->sync_fd, &rune, SYNC_GO, &go, &err) < 0)
		_exit(1);
	if (librune_process_new_session(a->console_fd, p, false, &err) < 0)
		goto fail;
	if (librune_process_set_personality(a->config, &err) < 0)
		goto fail;
	if (librune_process_enter_cwd(p, true, &cwd_entered, &err) < 0)
		goto fail;
	if (librune_process_find_executable(p, &exe, &err) < 0)
		goto fail;
	/* The container's filter applies to exec'd processes too, in runc's order. */
	if (librune_process_drop_privileges(p, a->config->seccomp_filter, a->sync_fd, cwd_entered, a->o->preserve_fds,
	                                    a->dmz_fd >= 0 ? a->sync_fd : -1, &err)
	    < 0)
		goto fail;
	if (librune_lsm_apply_on_exec(p, &err) < 0)
		goto fail;
	if (report_ready(a, &err) < 0)
		_exit(1);
	log_debug("exec: process %d about to exec %s", (int) go.value, exe);
	/* sync_fd is close-on-exec: rune reads EOF once execve succeeded
	 * (rune-exec's own execve, when it runs; else it reports the errno). */
	librune_process_exec(exe, p, a->o->preserve_fds, a->dmz_fd, a->sync_fd, &err);
fail:
	librune_sync_fail(a->sync_fd, err);
}

static int open_ns_fds(pid_t pid, int fds[NS_KINDS], rune_error_t *err)
{
	for (int k = 0; k < NS_KINDS; k++)
		fds[k] = -1;
	for (int k = 0; k < NS_KINDS; k++) {
		struct stat mine, theirs;
		char self[64], other[64];
		snprintf(self, sizeof(self), "/proc/self/ns/%s", librune_ns_kind_proc_name(k));
		snprintf(other, sizeof(other), "/proc/%d/ns/%s", (int) pid, librune_ns_kind_proc_name(k));
		if (stat(other, &theirs) < 0) {
			if (errno == ENOENT && k == NS_TIME)
				continue;
			return rune_error(err, errno, "stat %s", other);
		}
		/* Joining our own user namespace is EINVAL; skip what we share. */
		if (stat(self, &mine) == 0 && mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev)
			continue;
		fds[k] = open(other, O_RDONLY | O_CLOEXEC);
		if (fds[k] < 0)
			return rune_error(err, errno, "open %s", other);
	}
	return 0;
}

static void close_ns_fds(int fds[NS_KINDS])
{
	for (int k = 0; k < NS_KINDS; k++)
		if (fds[k] >= 0)
			close(fds[k]);
}

/* Until the child is ready to exec, then until execve (EOF) or its error; a
 * seccomp listener fd is passed on to the agent on the way. */
static int drive_child(struct rune_container *c, const struct exec_opts *o, const struct cgroup_entry *entry,
                       bool born_in_cgroup, int sync_fd, pid_t pid, rune_error_t *err)
{
	const struct sync_peer child = {
		.name = "exec'd process", .pid = pid, .cgroup = c->cgroup, .wait_if_frozen = o->ignore_paused
	};
	struct sync_msg m;

	if ((!born_in_cgroup && librune_cgroup_entry_join_v2(entry, pid, err) < 0)
	    || librune_sync_send(sync_fd, SYNC_GO, pid, NULL, err) < 0)
		return -1;
	for (;;) {
		if (librune_sync_recv(sync_fd, &child, &m, err) < 0)
			return -1;
		if (m.type == SYNC_READY)
			break;
		if (m.type == SYNC_ERROR)
			return rune_error(err, m.value, "%s", m.text);
		cleanup_close int listener = m.fd;
		if (m.type != SYNC_SECCOMP || listener < 0)
			return rune_error(err, EPROTO, "exec'd process: unexpected message %d", m.type);
		cleanup_free char *state = librune_container_hook_state(c->id, c->bundle, c->pid, "running", c->config);
		if (librune_seccomp_forward_listener(c->config->seccomp_filter, listener, pid, state, err) < 0)
			return -1;
	}
	/* EOF when execve worked; an error message when it did not. */
	rune_error_t eof = NULL;
	int r = librune_sync_recv(sync_fd, &child, &m, &eof);
	rune_error_release(&eof);
	if (r == 0 && m.type == SYNC_ERROR)
		return rune_error(err, m.value, "%s", m.text);
	if (r == 0 && m.type == SYNC_EXEC_FAILED)
		return rune_error(err, m.value, "exec process.args[0] \"%s\"", o->process->args[0]);
	return 0;
}

static int run_exec(struct rune_container *c, struct exec_opts *o, int ns_fds[NS_KINDS], pid_t *pid_out,
                    int *master_out, rune_error_t *err)
{
	int sv[2];
	cleanup_close int console_fd = -1, console_rune = -1, dmz_fd = -1;
	cleanup_cgroup_entry struct cgroup_entry entry = { .v2_fd = -1 };
	bool born_in_cgroup = false;

	if (o->console_socket && librune_console_socket_connect(o->console_socket, &console_fd, err) < 0)
		return -1;
	if (o->process->terminal && !o->console_socket) {
		int con[2];
		if (o->detach)
			return rune_error(err, EINVAL,
			                  "cannot allocate tty if rune will detach without setting console socket");
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0)
			return rune_error(err, errno, "socketpair");
		console_rune = con[0];
		console_fd = con[1];
	}
	if (!librune_sealed_exe_running() && librune_dmz_open(&dmz_fd, err) < 0)
		return rune_error_wrap(err, "exec needs rune-exec (or RUNE_REEXEC=1: rune re-executed sealed)");
	if (librune_cgroup_entry_open(c->cgroup, o->cgroup_paths, &entry, err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return rune_error(err, errno, "socketpair");
	struct spawn_opts so = { .cgroup_fd = entry.v2_fd };
	pid_t pid = librune_spawn_in_namespaces(ns_fds, &so, &born_in_cgroup, err);
	if (pid == 0) {
		struct exec_child_args a = { .o = o,
			                     .config = c->config,
			                     .sync_fd = sv[1],
			                     .console_fd = console_fd,
			                     .dmz_fd = dmz_fd,
			                     .cgroup_entry = &entry,
			                     .cgroup_ns_fd = ns_fds[NS_CGROUP] };
		close(sv[0]);
		close(c->lock_fd);
		if (console_rune >= 0)
			close(console_rune);
		exec_child(&a);
	}
	close(sv[1]);
	int r = pid < 0 ? -1 : drive_child(c, o, &entry, born_in_cgroup, sv[0], pid, err);
	close(sv[0]);
	if (r == 0 && console_rune >= 0)
		r = librune_console_recv_master(console_rune, master_out, err);
	if (r < 0 && pid > 0) {
		/* In a frozen cgroup even SIGKILL waits for the thaw, which is the
		 * user's to give: the process is then reaped by whoever inherits it. */
		kill(pid, SIGKILL);
		if (!librune_cgroup_is_frozen(c->cgroup))
			waitpid(pid, NULL, 0);
		return -1;
	}
	*pid_out = pid;
	log_debug("exec %s: process %d started", c->id, (int) pid);
	return r;
}

int librune_container_exec(struct rune_container *c, struct exec_opts *o, int *exit_code, rune_error_t *err)
{
	int ns_fds[NS_KINDS];
	int master = -1;
	pid_t pid = -1;
	enum rune_status s = librune_container_status(c);

	if (s == STATUS_STOPPED)
		return rune_error(err, 0, "cannot exec in a stopped container");
	if (s == STATUS_PAUSED && !o->ignore_paused)
		return rune_error(err, 0, "cannot exec in a paused container (use --ignore-paused to wait for it)");
	if (librune_lsm_check(o->process, NULL, "exec", err) < 0)
		return -1;
	if (c->config->enclave) /* (its proxy loads no filter: the enclave runs the command) */
		return librune_enclave_exec(c, o, exit_code, err);
	if (librune_seccomp_prepare(c->config->seccomp_filter, c->root, err) < 0)
		return -1;
	if (open_ns_fds(c->pid, ns_fds, err) < 0) {
		close_ns_fds(ns_fds);
		return -1;
	}
	/* exec changes no state: resume (for --ignore-paused), kill and delete
	 * must stay possible while it waits. */
	librune_container_unlock(c);
	/* Signals meant for the process must queue until we forward them. */
	sigset_t all, old;
	sigfillset(&all);
	if (!o->detach)
		sigprocmask(SIG_BLOCK, &all, &old);
	int r = run_exec(c, o, ns_fds, &pid, &master, err);
	close_ns_fds(ns_fds);
	if (r == 0 && o->pid_file)
		r = librune_write_pid_file(o->pid_file, pid, err);
	if (r == 0 && !o->detach)
		r = librune_wait_foreground(pid, master, exit_code, err);
	if (!o->detach)
		sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
