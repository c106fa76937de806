#include "palproc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct proc {
	int pid;
	int go_fd;  /* write a byte: the process may execve */
	int err_fd; /* the child's errno if execve failed; EOF once it succeeded */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct proc *procs;
static size_t nprocs;
static int first_pid = -1;
static const struct sock_fprog *seccomp_filter;
static struct palproc_root image_root; /* .path NULL: the enclave's own root */

void palproc_configure(const struct sock_fprog *filter)
{
	seccomp_filter = filter;
}

void palproc_set_root(const struct palproc_root *root)
{
	if (root)
		image_root = *root;
	else
		memset(&image_root, 0, sizeof(image_root));
}

/* Is candidate (a path as the process will see it) executable there? */
static int executable(const char *candidate)
{
	char full[4096];
	if (image_root.path == NULL || strcmp(image_root.path, "/") == 0)
		return access(candidate, X_OK) == 0 ? 0 : -errno;
	if ((size_t) snprintf(full, sizeof(full), "%s%s", image_root.path, candidate) >= sizeof(full))
		return -ENAMETOOLONG;
	if (access(full, X_OK) == 0)
		return 0;
	/* An absolute link in the image resolves inside it only at exec time. */
	int e = errno;
	struct stat st;
	return e == ENOENT && lstat(full, &st) == 0 && S_ISLNK(st.st_mode) ? 0 : -e;
}

static int resolve(const char *path, const char **env, char *out, size_t len)
{
	if (strchr(path, '/')) {
		if ((size_t) snprintf(out, len, "%s", path) >= len)
			return -ENAMETOOLONG;
		return executable(out);
	}
	const char *search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char **e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			search = *e + 5;
	int last = -ENOENT;
	for (const char *p = search; *p;) {
		const char *end = strchrnul(p, ':');
		if ((size_t) snprintf(out, len, "%.*s/%s", (int) (end - p), p, path) < len) {
			int r = executable(out);
			if (r == 0)
				return 0;
			if (r != -ENOENT)
				last = r;
		}
		p = *end ? end + 1 : end;
	}
	return last;
}

/* In the forked child: only async-signal-safe calls until execve. */
static void child(const char *exe, const char **argv, const char **env, const int stdio[3], int go, int errw)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int hi[3], e;

	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int i = 0; i < 3; i++)
		if ((hi[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 10)) < 0)
			goto fail;
	for (int i = 0; i < 3; i++)
		if (dup2(hi[i], i) < 0)
			goto fail;
	setsid();
	if (isatty(0))
		ioctl(0, TIOCSCTTY, 0);
	/* Image mode: the image's working directory and user. Changing ids
	 * needs the privileges the container grants; running as the enclave
	 * host's own ids needs none. */
	if (image_root.cwd && chdir(image_root.cwd) < 0)
		goto fail;
	if (image_root.set_ids && (setgroups(0, NULL) < 0 || setgid(image_root.gid) < 0 || setuid(image_root.uid) < 0))
		goto fail;
	if (seccomp_filter
	    && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
	        || prctl(PR_SET_SECCOMP, 2 /* FILTER */, seccomp_filter) < 0))
		goto fail;
	char b;
	ssize_t n;
	while ((n = read(go, &b, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		_exit(128 + SIGKILL); /* destroyed before it ran */
	execve(exe, (char *const *) argv, (char *const *) env);
fail:
	e = errno;
	(void) !write(errw, &e, sizeof(e));
	_exit(127);
}

int palproc_create(const char *path, const char **argv, const char **env, const struct pal_stdio_fds *stdio, int *pid)
{
	static const char *const empty[] = { NULL };
	char exe[4096];
	int go[2], errp[2];

	if (path == NULL || argv == NULL || stdio == NULL || pid == NULL)
		return -EINVAL;
	int r = resolve(path, env, exe, sizeof(exe));
	if (r < 0) {
		pal_log(PAL_LOG_ERROR, "cannot run %s: %s", path, strerror(-r));
		return r;
	}
	const int fds[3] = { stdio->stdin, stdio->stdout, stdio->stderr };
	/* Pipes made and forked under the lock: no other child may inherit this
	 * one's error pipe, or its reader would wait for that child's execve. */
	pthread_mutex_lock(&lock);
	if (pipe2(go, O_CLOEXEC) < 0) {
		r = -errno;
		pthread_mutex_unlock(&lock);
		return r;
	}
	if (pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		close(go[0]);
		close(go[1]);
		pthread_mutex_unlock(&lock);
		return r;
	}
	pid_t p = fork();
	if (p == 0)
		child(exe, argv, env ? env : (const char **) empty, fds, go[0], errp[1]);
	r = p < 0 ? -errno : 0;
	close(go[0]);
	close(errp[1]);
	if (r == 0) {
		struct proc *np = realloc(procs, (nprocs + 1) * sizeof(*procs));
		if (np == NULL) {
			kill(p, SIGKILL);
			waitpid(p, NULL, 0);
			r = -ENOMEM;
		} else {
			procs = np;
			procs[nprocs++] = (struct proc){ .pid = p, .go_fd = go[1], .err_fd = errp[0] };
			if (first_pid < 0)
				first_pid = p;
			*pid = p;
		}
	}
	pthread_mutex_unlock(&lock);
	if (r < 0) {
		close(go[1]);
		close(errp[0]);
	} else {
		pal_log(PAL_LOG_DEBUG, "created process %d: %s", *pid, exe);
	}
	return r;
}

/* Take pid out of the table; its fds in *out. */
static bool take(int pid, struct proc *out)
{
	bool found = false;
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].pid == pid) {
			*out = procs[i];
			procs[i].go_fd = procs[i].err_fd = -1;
			found = true;
			break;
		}
	pthread_mutex_unlock(&lock);
	return found && out->go_fd >= 0;
}

static void forget(int pid)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nprocs; i++)
		if (procs[i].pid == pid) {
			procs[i] = procs[--nprocs];
			break;
		}
	pthread_mutex_unlock(&lock);
}

int palproc_exec(int pid, int *status)
{
	struct proc p;
	int e = 0;
	if (status == NULL)
		return -EINVAL;
	if (!take(pid, &p))
		return -ESRCH;
	char b = 1;
	(void) !write(p.go_fd, &b, 1);
	close(p.go_fd);
	ssize_t n;
	while ((n = read(p.err_fd, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(p.err_fd);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			forget(pid);
			return -errno;
		}
	forget(pid);
	if (n == (ssize_t) sizeof(e)) {
		pal_log(PAL_LOG_ERROR, "process %d could not start: %s", pid, strerror(e));
		return -e;
	}
	*status = st;
	pal_log(PAL_LOG_DEBUG, "process %d ended, wait status %#x", pid, st);
	return 0;
}

int palproc_kill(int pid, int sig)
{
	int r = -ESRCH;
	pthread_mutex_lock(&lock);
	if (pid == 0)
		pid = first_pid;
	for (size_t i = 0; i < nprocs; i++)
		if (pid == -1 || procs[i].pid == pid)
			r = kill(procs[i].pid, sig) < 0 ? -errno : 0;
	pthread_mutex_unlock(&lock);
	return r;
}

void palproc_destroy(void)
{
	pthread_mutex_lock(&lock);
	struct proc *left = procs;
	size_t n = nprocs;
	procs = NULL;
	nprocs = 0;
	first_pid = -1;
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++) {
		kill(left[i].pid, SIGKILL);
		if (left[i].go_fd >= 0)
			close(left[i].go_fd);
		if (left[i].err_fd >= 0)
			close(left[i].err_fd);
		while (waitpid(left[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(left);
}

static const char *log_name = "pal";
static enum pal_log_level log_level = PAL_LOG_INFO;

void pal_log_setup(const char *name, const char *level)
{
	static const char *const names[] = { "trace", "debug", "info", "warning", "error" };
	log_name = name;
	log_level = PAL_LOG_INFO;
	if (level == NULL)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(level, names[i]) == 0)
			log_level = i;
	if (strcmp(level, "fatal") == 0 || strcmp(level, "panic") == 0)
		log_level = PAL_LOG_ERROR;
	if (strcmp(level, "off") == 0)
		log_level = PAL_LOG_OFF;
}

void pal_log(enum pal_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "trace", "debug", "info", "warning", "error" };
	char msg[1024];
	va_list ap;
	if (level < log_level || level >= PAL_LOG_OFF)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(2, "%s: %s: %s\n", log_name, names[level], msg);
}
