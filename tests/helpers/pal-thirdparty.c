/* An enclave runtime written the way third-party PALs are: against the
 * published PAL API v2 ABI declared here by hand, not rune's pal/pal.h, and
 * shaped like Occlum's: occlum_pal_* functions exported under the pal_* names
 * as aliases, version 2, pal_init's argument is an instance directory that
 * must exist (relative to the working directory), failures as -1 with errno,
 * exit values wait(2)-encoded, and only SIGKILL and SIGTERM accepted.
 * It runs processes as plain children: a test fixture, not an enclave. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The ABI, as published. */
struct occlum_pal_attr {
	const char *instance_dir;
	const char *log_level;
};
struct occlum_stdio_fds {
	int stdin_fd;
	int stdout_fd;
	int stderr_fd;
};
struct occlum_pal_create_process_args {
	const char *path;
	const char **argv;
	const char **env;
	const struct occlum_stdio_fds *stdio;
	int *pid;
};
struct occlum_pal_exec_args {
	int pid;
	int *exit_value;
};

#define EXPORT __attribute__((visibility("default")))
#define MAXP   64

static int ready;
static struct {
	int pid, go;
} procs[MAXP];

EXPORT int occlum_pal_get_version(void)
{
	return 2;
}

EXPORT int occlum_pal_init(const struct occlum_pal_attr *attr)
{
	struct stat st;
	if (attr == NULL || attr->instance_dir == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (stat(attr->instance_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "thirdparty-pal: instance directory %s: %s\n", attr->instance_dir, strerror(errno));
		errno = ENOENT;
		return -1;
	}
	ready = 1;
	return 0;
}

EXPORT int occlum_pal_create_process(struct occlum_pal_create_process_args *a)
{
	int go[2];
	if (!ready || a == NULL || a->path == NULL || a->pid == NULL || a->stdio == NULL)
		return -EINVAL;
	if (pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	pid_t p = fork();
	if (p == 0) {
		char b;
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(a->stdio->stdin_fd, 0);
		dup2(a->stdio->stdout_fd, 1);
		dup2(a->stdio->stderr_fd, 2);
		if (read(go[0], &b, 1) != 1)
			_exit(126);
		execvpe(a->path, (char *const *) a->argv, (char *const *) a->env);
		_exit(127);
	}
	close(go[0]);
	if (p < 0) {
		close(go[1]);
		return -errno;
	}
	for (int i = 0; i < MAXP; i++)
		if (procs[i].pid == 0) {
			procs[i].pid = p;
			procs[i].go = go[1];
			*a->pid = p;
			return 0;
		}
	kill(p, SIGKILL);
	return -EAGAIN;
}

EXPORT int occlum_pal_exec(struct occlum_pal_exec_args *a)
{
	int st;
	for (int i = 0; i < MAXP; i++)
		if (procs[i].pid == a->pid && procs[i].go >= 0) {
			(void) !write(procs[i].go, "x", 1);
			close(procs[i].go);
			procs[i].go = -1;
			while (waitpid(a->pid, &st, 0) < 0)
				if (errno != EINTR)
					return -errno;
			procs[i].pid = 0;
			*a->exit_value = st;
			return 0;
		}
	return -ESRCH;
}

EXPORT int occlum_pal_kill(int pid, int sig)
{
	if (sig != SIGKILL && sig != SIGTERM)
		return -EINVAL;
	int r = -ESRCH;
	for (int i = 0; i < MAXP; i++)
		if (procs[i].pid > 0 && (pid == -1 || pid == 0 || procs[i].pid == pid))
			r = kill(procs[i].pid, sig) < 0 ? -errno : 0;
	return r;
}

EXPORT int occlum_pal_destroy(void)
{
	for (int i = 0; i < MAXP; i++)
		if (procs[i].pid > 0)
			kill(procs[i].pid, SIGKILL);
	ready = 0;
	return 0;
}

EXPORT int pal_get_version(void) __attribute__((alias("occlum_pal_get_version")));
EXPORT int pal_init(const struct occlum_pal_attr *) __attribute__((alias("occlum_pal_init")));
EXPORT int pal_create_process(struct occlum_pal_create_process_args *)
    __attribute__((alias("occlum_pal_create_process")));
EXPORT int pal_exec(struct occlum_pal_exec_args *) __attribute__((alias("occlum_pal_exec")));
EXPORT int pal_kill(int, int) __attribute__((alias("occlum_pal_kill")));
EXPORT int pal_destroy(void) __attribute__((alias("occlum_pal_destroy")));
