/* `exec`: a new process in a running container's namespaces and cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "process.h"
#include "lsm.h"
#include "seccomp_filter.h"
#include "spawn.h"
#include "sync.h"
#include "util.h"

static void exec_child(struct exec_opts *o, const struct rune_seccomp *sc, int sync_fd, int console_fd)
    __attribute__((noreturn));
static void exec_child(struct exec_opts *o, const struct rune_seccomp *sc, int sync_fd, int console_fd)
{
	const struct rune_process *p = o->process;
	rune_error_t err = NULL;
	cleanup_free char *exe = NULL;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (sync_expect(sync_fd, SYNC_GO, "rune", &err) < 0)
		_exit(1);
	if (setsid() < 0) {
		rune_error(&err, errno, "setsid");
		sync_fail(sync_fd, err);
	}
	if (console_fd >= 0) {
		if (console_setup(console_fd, o->process, false, &err) < 0)
			sync_fail(sync_fd, err);
		close(console_fd);
	}
	if (o->personality_set && personality(o->personality) < 0) {
		rune_error(&err, errno, "linux.personality");
		sync_fail(sync_fd, err);
	}
	/* The container's filter applies to exec'd processes too, in runc's order. */
	if (process_find_executable(p, &exe, &err) < 0
	    || (sc && !p->no_new_privileges && seccomp_load_and_hand_over(sc, sync_fd, &err) < 0)
	    || process_apply(p, &err) < 0 || process_apply_nnp(p, &err) < 0
	    || (sc && p->no_new_privileges && seccomp_load_and_hand_over(sc, sync_fd, &err) < 0))
		sync_fail(sync_fd, err);
	if (lsm_apply_on_exec(p, &err) < 0)
		sync_fail(sync_fd, err);
	sync_send(sync_fd, SYNC_READY, 0, NULL);
	/* sync_fd is close-on-exec: rune reads EOF once execve succeeded. */
	process_exec(exe, o->process, o->preserve_fds, &err);
	sync_fail(sync_fd, err);
}

static int open_ns_fds(pid_t pid, int fds[NS_KINDS], rune_error_t *err)
{
	for (int k = 0; k < NS_KINDS; k++) {
		struct stat mine, theirs;
		char self[64], other[64];
		fds[k] = -1;
		snprintf(self, sizeof(self), "/proc/self/ns/%s", ns_kind_proc_name(k));
		snprintf(other, sizeof(other), "/proc/%d/ns/%s", (int) pid, ns_kind_proc_name(k));
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

/* Until the child is ready to exec; a seccomp listener fd is passed on. */
static int wait_ready(struct rune_container *c, int sync_fd, pid_t pid, rune_error_t *err)
{
	struct sync_msg m;
	for (;;) {
		if (sync_recv(sync_fd, &m, "exec'd process", err) < 0)
			return -1;
		if (m.type == SYNC_READY)
			return 0;
		if (m.type == SYNC_ERROR)
			return rune_error(err, m.value, "%s", m.text);
		if (m.type != SYNC_SECCOMP)
			return rune_error(err, EPROTO, "exec'd process: unexpected message %d", m.type);
		cleanup_free char *state = container_hook_state(c->id, c->bundle, c->pid, "running", c->config);
		if (seccomp_forward_listener(c->config->seccomp_filter, sync_fd, pid, state, err) < 0)
			return -1;
	}
}

static int run_exec(struct rune_container *c, struct exec_opts *o, int ns_fds[NS_KINDS], pid_t *pid_out,
                    int *master_out, rune_error_t *err)
{
	int sv[2], con[2] = { -1, -1 };
	cleanup_close int console_fd = -1;

	if (o->console_socket && console_socket_connect(o->console_socket, &console_fd, err) < 0)
		return -1;
	if (o->process->terminal && !o->console_socket) {
		if (o->detach)
			return rune_error(err, EINVAL,
			                  "cannot allocate tty if rune will detach without setting console socket");
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0)
			return rune_error(err, errno, "socketpair");
		console_fd = con[1];
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return rune_error(err, errno, "socketpair");
	pid_t pid = spawn_in_namespaces(ns_fds, 0, false, NULL, err);
	if (pid == 0) {
		close(sv[0]);
		close(c->lock_fd);
		if (con[0] >= 0)
			close(con[0]);
		o->personality_set = c->config->has_personality;
		o->personality = c->config->personality;
		exec_child(o, c->config->seccomp_filter, sv[1], console_fd);
	}
	close(sv[1]);
	int r = pid < 0 ? -1 : 0;
	if (r == 0
	    && (cgroup_enter(c->cgroup, pid, err) < 0 || sync_send(sv[0], SYNC_GO, pid, NULL) < 0
	        || wait_ready(c, sv[0], pid, err) < 0))
		r = -1;
	if (r == 0) {
		/* Either EOF (execve worked) or an error from the child. */
		struct sync_msg m;
		rune_error_t e2 = NULL;
		if (sync_recv(sv[0], &m, "exec'd process", &e2) == 0 && m.type == SYNC_ERROR)
			r = rune_error(err, m.value, "%s", m.text);
		rune_error_release(&e2);
	}
	close(sv[0]);
	if (r == 0 && con[0] >= 0)
		r = recv_fd(con[0], master_out, err);
	if (con[0] >= 0)
		close(con[0]);
	if (r < 0 && pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	*pid_out = pid;
	return r;
}

int container_exec(struct rune_container *c, struct exec_opts *o, int *exit_code, rune_error_t *err)
{
	int ns_fds[NS_KINDS];
	int master = -1;
	pid_t pid = -1;
	enum rune_status s = container_status(c);

	if (s == STATUS_STOPPED)
		return rune_error(err, 0, "cannot exec in a stopped container");
	if (s == STATUS_PAUSED)
		return rune_error(err, 0, "cannot exec in a paused container");
	if (lsm_check(o->process, NULL, "exec", err) < 0)
		return -1;
	if (c->config->enclave)
		return enclave_exec(c, o, exit_code, err);
	if (open_ns_fds(c->pid, ns_fds, err) < 0)
		return -1;
	/* Signals meant for the process must queue until we forward them. */
	sigset_t all, old;
	sigfillset(&all);
	if (!o->detach)
		sigprocmask(SIG_BLOCK, &all, &old);
	int r = run_exec(c, o, ns_fds, &pid, &master, err);
	for (int k = 0; k < NS_KINDS; k++)
		if (ns_fds[k] >= 0)
			close(ns_fds[k]);
	if (r == 0 && o->pid_file)
		r = write_pid_file(o->pid_file, pid, err);
	/* exec holds no lock while the process runs: kill and delete stay possible. */
	if (c->lock_fd >= 0) {
		close(c->lock_fd);
		c->lock_fd = -1;
	}
	if (r == 0 && !o->detach)
		r = wait_foreground(pid, master, exit_code, err);
	if (!o->detach)
		sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
