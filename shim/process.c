/* rune by exec, as containerd's runc shim drives runc: global flags for the
 * namespace's state root and a JSON log the shim reads back, so a failure
 * reaches containerd in rune's own words. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "shim.h"
#include "unixsock.h"
#include "util.h"

char *shim_work_path(struct shim_server *s, const char *suffix)
{
	return xasprintf("%s/%u.%s", s->workdir, ++s->seq, suffix);
}

/* rune beside the shim (a build tree, /usr/local/bin), else from $PATH. */
static char *rune_binary(const struct shim_options *o)
{
	char self[PATH_MAX];
	ssize_t n;

	if (o->binary && o->binary[0])
		return xstrdup(o->binary);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			char *beside = xasprintf("%s/rune", self);
			if (access(beside, X_OK) == 0)
				return beside;
			free(beside);
		}
	}
	return xstrdup("rune");
}

/* The last error rune logged (its JSON log, one object per line). */
static char *rune_log_error(const char *log_path)
{
	cleanup_free char *text = NULL;
	char *found = NULL;
	size_t len;
	rune_error_t err = NULL;

	if (rune_read_file(log_path, 1 << 20, &text, &len, &err) < 0) {
		rune_error_release(&err);
		return NULL;
	}
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		yajl_val v = NULL;
		if (rune_json_parse(line, "rune log", &v, &err) < 0) {
			rune_error_release(&err);
			continue;
		}
		yajl_val level = rune_json_get(v, "level"), msg = rune_json_get(v, "msg");
		const char *lv = YAJL_IS_STRING(level) ? YAJL_GET_STRING(level) : NULL;
		if (lv && strcmp(lv, "error") == 0 && YAJL_IS_STRING(msg)) {
			free(found);
			found = xstrdup(YAJL_GET_STRING(msg));
		}
		yajl_tree_free(v);
	}
	return found;
}

static void exec_child(char *const argv[], const int stdio[3], int pass_fd, pid_t shim)
{
	sigset_t none;
	/* rune dies with the shim: a create left running after its shim was
	 * killed would finish after containerd's cleanup, and leave a container
	 * nobody manages. (Killed, it leaves what delete --force removes.) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != shim)
		_exit(127);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	int src[4], n = pass_fd >= 0 ? 4 : 3;

	/* The shim blocks signals for its signalfd; rune and the container must not inherit that. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* Out of the way first, so no dup2 below overwrites a source still needed. */
	for (int i = 0; i < 3; i++)
		src[i] = fcntl(stdio[i] >= 0 ? stdio[i] : devnull, F_DUPFD_CLOEXEC, 10);
	if (pass_fd >= 0)
		src[3] = fcntl(pass_fd, F_DUPFD_CLOEXEC, 10);
	for (int i = 0; i < n; i++)
		if (src[i] < 0 || dup2(src[i], i) < 0)
			_exit(127);
	closefrom(n);
	execvp(argv[0], argv);
	_exit(127);
}

int shim_rune(struct shim_server *s, const struct shim_options *o, const char *const *args, const int stdio[3],
              int pass_fd, rune_error_t *err)
{
	SHIM_NO_SIDE_EFFECTS_WHEN_FUZZING(err);
	cleanup_free char *binary = rune_binary(o);
	cleanup_free char *root = shim_rune_root(s->cfg, o);
	cleanup_free char *log = shim_work_path(s, "log");
	const char *argv[64];
	size_t n = 0;
	pid_t pid;
	int st;

	argv[n++] = binary;
	argv[n++] = "--root";
	argv[n++] = root;
	argv[n++] = "--log";
	argv[n++] = log;
	argv[n++] = "--log-format";
	argv[n++] = "json";
	if (o->systemd_cgroup)
		argv[n++] = "--systemd-cgroup";
	for (size_t i = 0; args[i] && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	pid_t shim = getpid();
	pid = fork();
	if (pid < 0)
		return rune_error(err, errno, "fork for rune %s", args[0]);
	if (pid == 0)
		exec_child((char *const *) argv, stdio, pass_fd, shim);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return rune_error(err, errno, "wait for rune %s", args[0]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		unlink(log);
		return 0;
	}
	cleanup_free char *why = rune_log_error(log);
	unlink(log);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && why == NULL)
		return rune_error(err, ENOENT, "rune %s: could not run %s", args[0], binary);
	if (why)
		return rune_error(err, 0, "rune %s: %s", args[0], why);
	return rune_error(err, 0, "rune %s failed (%s %d) without a message", args[0],
	                  WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

int shim_read_pid(const char *path, pid_t *pid, rune_error_t *err)
{
	cleanup_free char *text = NULL;
	unsigned long v;
	size_t len;

	if (rune_read_file(path, 64, &text, &len, err) < 0)
		return rune_error_wrap(err, "pid file");
	text[strcspn(text, "\n")] = '\0';
	if (!rune_parse_ulong(text, &v) || v == 0 || v > INT_MAX)
		return rune_error(err, EINVAL, "pid file %s: not a pid: %.32s", path, text);
	*pid = (pid_t) v;
	return 0;
}

int shim_memfd(const char *name, const void *data, size_t len, rune_error_t *err)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		return rune_error(err, errno, "memfd_create %s", name);
	if (rune_write_all(fd, data, len) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;
		close(fd);
		return rune_error(err, e, "write %s", name);
	}
	return fd;
}

int shim_console_listen(const char *path, int *fd, rune_error_t *err)
{
	SHIM_NO_SIDE_EFFECTS_WHEN_FUZZING(err);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	if (strlen(path) >= sizeof(sa.sun_path))
		return rune_error(err, ENAMETOOLONG, "console socket %s", path);
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return rune_error(err, errno, "socket");
	if (bind(s, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		int e = errno;
		close(s);
		return rune_error(err, e, "console socket %s", path);
	}
	*fd = s;
	return 0;
}

/* rune has already connected and sent the master by the time it exits, so the
 * connection waits in the backlog; a non-blocking accept finds it or there is none. */
int shim_console_receive(int listen_fd, int *master, rune_error_t *err)
{
	cleanup_close int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (c < 0)
		return rune_error(err, errno, "console socket: rune sent no terminal");
	return rune_recv_one_fd(c, master, "the terminal over the console socket", err);
}
