#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

/* fork(2) semantics (no new stack), with namespace flags; born in cgroup_fd's
 * cgroup when the kernel lets us (*born_in). */
static pid_t clone_process(int flags, int cgroup_fd, bool *born_in)
{
	*born_in = false;
	if (cgroup_fd >= 0) {
		struct clone_args args = {
			.flags = (uint64_t) (unsigned) flags | CLONE_INTO_CGROUP,
			/* clone3 refuses an exit signal with CLONE_PARENT: the
			 * process then gets the caller's own, SIGCHLD. */
			.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
			.cgroup = (uint64_t) cgroup_fd,
		};
		pid_t pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0) {
			*born_in = true;
			return pid;
		}
		/* Whatever the reason, the caller's cgroup.procs write follows
		 * and names it if it persists. */
	}
	return syscall(SYS_clone, (unsigned long) flags | SIGCHLD, NULL, NULL, NULL, 0);
}

struct spawn_report {
	pid_t pid;
	int err;
	bool born_in;
	char what[256];
};

static void report(int fd, struct spawn_report *r, int err, const char *what)
{
	r->err = err;
	if (what)
		snprintf(r->what, sizeof(r->what), "%s", what);
	(void) !write(fd, r, sizeof(*r));
}

/* The helper: join, clone, report; the new process returns 0 from here. */
static pid_t helper(const int ns_fds[NS_KINDS], const struct spawn_opts *o, int out)
{
	struct spawn_report r = { 0 };
	char what[256];
	for (int k = 0; k < NS_KINDS; k++) {
		if (ns_fds[k] < 0 || k == NS_CGROUP)
			continue;
		if (setns(ns_fds[k], librune_ns_kind_clone_flag(k)) < 0) {
			snprintf(what, sizeof(what), "join the %s namespace", librune_ns_kind_name(k));
			report(out, &r, errno, what);
			_exit(0);
		}
	}
	if (o->new_time_ns && unshare(0x80 /* CLONE_NEWTIME */) < 0) {
		report(out, &r, errno, "create a time namespace");
		_exit(0);
	}
	/* Offsets can only be set before any process lives in the namespace. */
	if (o->new_time_ns && o->time_offsets) {
		int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, o->time_offsets, strlen(o->time_offsets)) < 0) {
			report(out, &r, errno, "linux.timeOffsets: write /proc/self/timens_offsets");
			_exit(0);
		}
		close(fd);
	}
	/* CLONE_PARENT: the container process becomes rune's child, not ours. */
	r.pid = clone_process(o->clone_flags | CLONE_PARENT, o->cgroup_fd, &r.born_in);
	if (r.pid == 0) {
		close(out);
		return 0;
	}
	snprintf(what, sizeof(what), "clone (namespace flags 0x%x)", o->clone_flags);
	report(out, &r, r.pid < 0 ? errno : 0, r.pid < 0 ? what : NULL);
	_exit(0);
}

static pid_t spawn_through_helper(const int ns_fds[NS_KINDS], const struct spawn_opts *o, bool *born_in,
                                  rune_error_t *err)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return rune_error(err, errno, "pipe");
	pid_t mid = fork();
	if (mid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return rune_error(err, errno, "fork");
	}
	if (mid == 0) {
		close(pipefd[0]);
		return helper(ns_fds, o, pipefd[1]);
	}
	close(pipefd[1]);
	struct spawn_report r = { 0 };
	ssize_t n;
	do
		n = read(pipefd[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t) sizeof(r))
		return rune_error(err, EPROTO, "the namespace-joining helper died");
	if (r.err)
		return rune_error(err, r.err, "%s", r.what);
	*born_in = r.born_in;
	return r.pid;
}

int librune_spawn_join_cgroup_ns(int fd, rune_error_t *err)
{
	if (fd >= 0 && setns(fd, CLONE_NEWCGROUP) < 0)
		return rune_error(err, errno, "join the cgroup namespace");
	return 0;
}

pid_t librune_spawn_in_namespaces(const int ns_fds[NS_KINDS], const struct spawn_opts *o, bool *born_in_cgroup,
                                  rune_error_t *err)
{
	bool join = o->new_time_ns;
	for (int k = 0; k < NS_KINDS; k++)
		join |= ns_fds[k] >= 0;
	*born_in_cgroup = false;
	if (join)
		return spawn_through_helper(ns_fds, o, born_in_cgroup, err);
	pid_t pid = clone_process(o->clone_flags, o->cgroup_fd, born_in_cgroup);
	if (pid < 0)
		return rune_error(err, errno, "clone (namespace flags 0x%x)", o->clone_flags);
	return pid;
}
