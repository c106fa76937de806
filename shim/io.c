/* A process's stdio as containerd hands it over: FIFO paths the shim copies
 * to and from, `binary://` loggers (fds 3 and 4 carry stdout and stderr, fd 5
 * is closed by the logger once it is ready), `file://` paths, or a terminal
 * whose master arrives over the console socket.
 *
 * Copying runs on detached threads, each owning its fds: a FIFO whose reader
 * went away (containerd restarting) makes writes fail with EPIPE until a new
 * reader opens it, so output is dropped meanwhile and the container never
 * blocks on a dead reader. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "shim.h"
#include "util.h"

#define COPY_BUF        16384
#define COPY_STACK      (128 * 1024)
#define LOGGER_READY_MS 10000

/* One direction of copying: src to dst, dst opened from dst_path when -1. */
struct shim_copy {
	int src, dst;
	char *dst_path;
};

/* The stdin copy: shared by the thread and the event loop (CloseIO wakes it
 * through evfd); the last of the two to let go frees it. */
struct shim_stdin {
	char *path;
	int dst, evfd;
	atomic_int refs;
};

static void stdin_unref(struct shim_stdin *in)
{
	if (atomic_fetch_sub(&in->refs, 1) == 1) {
		close(in->evfd);
		free(in->path);
		free(in);
	}
}

static void *copy_out(void *arg)
{
	struct shim_copy *c = arg;
	char buf[COPY_BUF];

	if (c->dst < 0)
		c->dst = open(c->dst_path, O_WRONLY | O_CLOEXEC);
	for (;;) {
		ssize_t r = read(c->src, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) /* EOF, or EIO from a terminal whose last user left */
			break;
		if (c->dst >= 0)
			(void) rune_write_all(c->dst, buf, (size_t) r);
	}
	close(c->src);
	if (c->dst >= 0)
		close(c->dst);
	free(c->dst_path);
	free(c);
	return NULL;
}

static void *copy_in(void *arg)
{
	struct shim_stdin *in = arg;
	char buf[COPY_BUF];
	int fifo = open(in->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	while (fifo >= 0) {
		/* A FIFO no writer has opened yet reports no hang-up: we wait for the first. */
		struct pollfd p[2] = { { .fd = fifo, .events = POLLIN }, { .fd = in->evfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		ssize_t r = read(fifo, buf, sizeof(buf));
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0 || rune_write_all(in->dst, buf, (size_t) r) < 0)
			break;
	}
	if (fifo >= 0)
		close(fifo);
	close(in->dst);
	stdin_unref(in);
	return NULL;
}

static int spawn_thread(void *(*fn)(void *), void *arg, rune_error_t *err)
{
	pthread_attr_t attr;
	pthread_t th;
	int e;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, COPY_STACK);
	e = pthread_create(&th, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return e ? rune_error(err, e, "start a stdio thread") : 0;
}

static int start_copy_out(int src, int dst, const char *dst_path, rune_error_t *err)
{
	struct shim_copy *c = xcalloc(1, sizeof(*c));

	c->src = src;
	c->dst = dst;
	c->dst_path = dst_path ? xstrdup(dst_path) : NULL;
	if (spawn_thread(copy_out, c, err) < 0) {
		free(c->dst_path);
		free(c);
		return -1;
	}
	return 0;
}

/* A pipe: the child end to hand over, ours to copy (both close-on-exec). */
static int make_pipe(int p[2], rune_error_t *err)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return rune_error(err, errno, "pipe");
	return 0;
}

/* binary:///path?key=value&flag: run path key value flag with the pipes as 3 and 4. */
static int start_logger(struct shim_server *s, struct shim_io *io, const char *task_id, const char *uri,
                        rune_error_t *err)
{
	cleanup_free char *spec = xstrdup(uri + strlen("binary://"));
	char *query = strchr(spec, '?');
	cleanup_strv char **argv = NULL;
	int out[2], errp[2], ready[2];
	pid_t pid;

	if (query)
		*query++ = '\0';
	if (spec[0] != '/')
		return rune_error(err, EINVAL, "stdio logger %s: the binary must be an absolute path", uri);
	rune_strv_append(&argv, spec);
	for (char *kv = query ? strtok(query, "&") : NULL; kv; kv = strtok(NULL, "&")) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq++ = '\0';
		rune_strv_append(&argv, kv);
		if (eq && *eq)
			rune_strv_append(&argv, eq);
	}
	out[0] = out[1] = errp[0] = errp[1] = ready[0] = ready[1] = -1;
	if (make_pipe(out, err) < 0 || make_pipe(errp, err) < 0 || make_pipe(ready, err) < 0) {
		/* nothing half-made stays open */
		for (int i = 0; i < 2; i++)
			close(out[i]), close(errp[i]), close(ready[i]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		cleanup_free char *idenv = xasprintf("CONTAINER_ID=%s", task_id);
		cleanup_free char *nsenv = xasprintf("CONTAINER_NAMESPACE=%s", s->cfg->ns);
		char *envp[] = { idenv, nsenv, NULL };
		sigset_t none;
		int src[3] = { fcntl(out[0], F_DUPFD_CLOEXEC, 10), fcntl(errp[0], F_DUPFD_CLOEXEC, 10),
			       fcntl(ready[1], F_DUPFD_CLOEXEC, 10) };
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		for (int i = 0; i < 3; i++)
			if (src[i] < 0 || dup2(src[i], 3 + i) < 0)
				_exit(127);
		closefrom(6);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(out[0]);
	close(errp[0]);
	close(ready[1]);
	if (pid < 0) {
		close(out[1]), close(errp[1]), close(ready[0]);
		return rune_error(err, errno, "fork the stdio logger");
	}
	struct pollfd p = { .fd = ready[0], .events = POLLIN };
	int r = poll(&p, 1, LOGGER_READY_MS);
	close(ready[0]);
	if (r <= 0) {
		close(out[1]), close(errp[1]);
		return rune_error(err, ETIMEDOUT, "stdio logger %s did not get ready", uri);
	}
	io->child[1] = out[1];
	io->child[2] = errp[1];
	return 0;
}

static int open_log_file(struct shim_io *io, const char *uri, rune_error_t *err)
{
	const char *path = uri + strlen("file://");
	cleanup_free char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int fd;

	if (path[0] != '/')
		return rune_error(err, EINVAL, "stdio file %s: not an absolute path", uri);
	if (slash && slash != dir) {
		*slash = '\0';
		if (rune_mkdir_p(dir, 0755, err) < 0)
			return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return rune_error(err, errno, "stdio file %s", path);
	io->child[1] = fd;
	io->child[2] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return 0;
}

/* stdout or stderr to a FIFO: the child gets a pipe, a thread copies it. */
static int fifo_out(struct shim_io *io, int which, const char *path, rune_error_t *err)
{
	int p[2];

	if (make_pipe(p, err) < 0)
		return -1;
	io->child[which] = p[1];
	io->copy_src[which] = p[0];
	io->copy_path[which] = xstrdup(path);
	return 0;
}

int shim_io_open(struct shim_server *s, struct shim_io *io, const char *task_id, const char *in, const char *out,
                 const char *errp, bool terminal, rune_error_t *err)
{
	SHIM_NO_SIDE_EFFECTS_WHEN_FUZZING(err);
	io->child[0] = io->child[1] = io->child[2] = -1;
	io->copy_src[0] = io->copy_src[1] = io->copy_src[2] = -1;
	io->console = -1;
	io->terminal = terminal;
	if (terminal) {
		/* The master arrives later; stderr shares the terminal. */
		io->copy_path[0] = in && *in ? xstrdup(in) : NULL;
		io->copy_path[1] = out && *out ? xstrdup(out) : NULL;
		return 0;
	}
	if (in && *in) {
		int p[2];
		if (make_pipe(p, err) < 0)
			return -1;
		io->child[0] = p[0];
		io->copy_src[0] = p[1]; /* the copy writes into the child's stdin */
		io->copy_path[0] = xstrdup(in);
	}
	if (out && strncmp(out, "binary://", 9) == 0)
		return start_logger(s, io, task_id, out, err);
	if (out && strncmp(out, "file://", 7) == 0)
		return open_log_file(io, out, err);
	if (out && *out && fifo_out(io, 1, out, err) < 0)
		return -1;
	if (errp && *errp && fifo_out(io, 2, errp, err) < 0)
		return -1;
	return 0;
}

static int start_stdin(struct shim_io *io, int dst, rune_error_t *err)
{
	struct shim_stdin *in = xcalloc(1, sizeof(*in));

	in->path = io->copy_path[0];
	io->copy_path[0] = NULL;
	in->dst = dst;
	in->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	atomic_init(&in->refs, 2);
	if (in->evfd < 0 || spawn_thread(copy_in, in, err) < 0) {
		int ret = in->evfd < 0 ? rune_error(err, errno, "eventfd") : -1;
		if (in->evfd >= 0)
			close(in->evfd);
		close(dst);
		free(in->path);
		free(in);
		return ret;
	}
	io->in = in;
	return 0;
}

int shim_io_started(struct shim_io *io, int console, rune_error_t *err)
{
	for (int i = 0; i < 3; i++)
		if (io->child[i] >= 0) {
			close(io->child[i]);
			io->child[i] = -1;
		}
	if (io->terminal) {
		io->console = console;
		if (io->copy_path[1]
		    && start_copy_out(fcntl(console, F_DUPFD_CLOEXEC, 0), -1, io->copy_path[1], err) < 0)
			return -1;
		if (io->copy_path[0] && start_stdin(io, fcntl(console, F_DUPFD_CLOEXEC, 0), err) < 0)
			return -1;
		return 0;
	}
	for (int i = 1; i < 3; i++)
		if (io->copy_src[i] >= 0) {
			if (start_copy_out(io->copy_src[i], -1, io->copy_path[i], err) < 0)
				return -1;
			io->copy_src[i] = -1;
		}
	if (io->copy_src[0] >= 0) {
		int dst = io->copy_src[0];
		io->copy_src[0] = -1;
		return start_stdin(io, dst, err);
	}
	return 0;
}

void shim_io_close_stdin(struct shim_io *io)
{
	uint64_t one = 1;

	if (io->in && write(io->in->evfd, &one, sizeof(one)) < 0)
		log_debug("close stdin: %m");
}

void shim_io_release(struct shim_io *io)
{
	shim_io_close_stdin(io);
	if (io->in)
		stdin_unref(io->in);
	io->in = NULL;
	for (int i = 0; i < 3; i++) {
		if (io->child[i] >= 0)
			close(io->child[i]);
		if (io->copy_src[i] >= 0)
			close(io->copy_src[i]);
		free(io->copy_path[i]);
		io->child[i] = io->copy_src[i] = -1;
		io->copy_path[i] = NULL;
	}
	if (io->console >= 0)
		close(io->console);
	io->console = -1;
}
