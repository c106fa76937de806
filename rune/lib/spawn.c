#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

static pid_t raw_clone(int flags)
{
	/* fork(2) semantics (no new stack), with namespace flags. */
	return syscall(SYS_clone, (unsigned long) flags | SIGCHLD, NULL, NULL, NULL, 0);
}

struct spawn_report {
	pid_t pid;
	int err;
	char what[256];
};

pid_t librune_spawn_in_namespaces(const int ns_fds[NS_KINDS], int clone_flags, bool new_time_ns,
                                  const char *time_offsets, rune_error_t *err)
{
	bool join = new_time_ns;
	for (int k = 0; k < NS_KINDS; k++)
		join |= ns_fds[k] >= 0;
	if (!join) {
		pid_t pid = raw_clone(clone_flags);
		if (pid < 0)
			return rune_error(err, errno, "clone (namespace flags 0x%x)", clone_flags);
		return pid;
	}

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
		struct spawn_report r = { 0 };
		close(pipefd[0]);
		for (int k = 0; k < NS_KINDS && r.err == 0; k++) {
			if (ns_fds[k] < 0)
				continue;
			if (setns(ns_fds[k], librune_ns_kind_clone_flag(k)) < 0) {
				r.err = errno;
				snprintf(r.what, sizeof(r.what), "join the %s namespace", librune_ns_kind_name(k));
			}
		}
		if (r.err == 0 && new_time_ns && unshare(0x80 /* CLONE_NEWTIME */) < 0) {
			r.err = errno;
			snprintf(r.what, sizeof(r.what), "create a time namespace");
		}
		/* Offsets can only be set before any process lives in the namespace. */
		if (r.err == 0 && new_time_ns && time_offsets) {
			int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, time_offsets, strlen(time_offsets)) < 0) {
				r.err = errno;
				snprintf(r.what, sizeof(r.what), "linux.timeOffsets: write /proc/self/timens_offsets");
			}
			if (fd >= 0)
				close(fd);
		}
		if (r.err == 0) {
			/* CLONE_PARENT: the container process becomes rune's child, not ours. */
			r.pid = raw_clone(clone_flags | CLONE_PARENT);
			if (r.pid == 0) {
				close(pipefd[1]);
				return 0;
			}
			if (r.pid < 0) {
				r.err = errno;
				snprintf(r.what, sizeof(r.what), "clone (namespace flags 0x%x)", clone_flags);
			}
		}
		(void) !write(pipefd[1], &r, sizeof(r));
		_exit(0);
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
	return r.pid;
}
