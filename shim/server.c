/* The serving process: one event loop over the listening socket, containerd's
 * connections, a signalfd for SIGCHLD (the shim is the containers' subreaper)
 * and an inotify fd for OOM kills. Requests are handled one at a time, rune
 * runs synchronously from here, and an exit is reaped only by this loop — so
 * a process that exits while rune is still starting it is recorded first and
 * reaped after, never missed. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "log.h"
#include "shim.h"
#include "ttrpc.pb-c.h"
#include "util.h"

#define TASK_SERVICE "containerd.task.v2.Task"
#define WORK_ROOT    "/run/containerd/rune-shim"

struct shim_conn {
	enum shim_watch_kind kind; /* SHIM_W_CONN; first, as epoll's data points here */
	int fd;
	uint8_t *buf;
	size_t have, cap;
	size_t skip; /* bytes of an oversized frame still to discard */
	struct shim_conn *next;
};

struct shim_wait {
	struct shim_conn *conn;
	uint32_t stream;
	struct shim_wait *next;
};

static enum shim_watch_kind listen_kind = SHIM_W_LISTEN, signal_kind = SHIM_W_SIGNAL, inotify_kind = SHIM_W_INOTIFY;

struct shim_task *shim_find_task(struct shim_server *s, const char *id)
{
	for (struct shim_task *t = s->tasks; t; t = t->next)
		if (strcmp(t->id, id) == 0)
			return t;
	return NULL;
}

void shim_park_wait(struct shim_server *s, struct shim_proc *p, struct shim_conn *conn, uint32_t stream)
{
	struct shim_wait *w = xcalloc(1, sizeof(*w));

	(void) s;
	w->conn = conn;
	w->stream = stream;
	w->next = p->waits;
	p->waits = w;
}

static void proc_drop_conn(struct shim_proc *p, struct shim_conn *conn)
{
	for (struct shim_wait **w = &p->waits; *w;) {
		if ((*w)->conn == conn) {
			struct shim_wait *dead = *w;
			*w = dead->next;
			free(dead);
		} else {
			w = &(*w)->next;
		}
	}
}

void shim_drop_waits(struct shim_proc *p)
{
	while (p->waits) {
		struct shim_wait *w = p->waits;
		p->waits = w->next;
		free(w);
	}
}

void shim_drop_conn_waits(struct shim_server *s, struct shim_conn *conn)
{
	for (struct shim_task *t = s->tasks; t; t = t->next) {
		proc_drop_conn(&t->init, conn);
		for (struct shim_proc *e = t->execs; e; e = e->next)
			proc_drop_conn(e, conn);
	}
}

void shim_answer_waits(struct shim_server *s, struct shim_proc *p)
{
	(void) s;
	while (p->waits) {
		struct shim_wait *w = p->waits;
		struct shim_reply r = { 0 };

		p->waits = w->next;
		shim_wait_reply(p, &r);
		(void) shim_ttrpc_respond(w->conn->fd, w->stream, SHIM_OK, NULL, r.msg);
		shim_reply_free(&r);
		free(w);
	}
}

static void close_conn(struct shim_server *s, struct shim_conn *c)
{
	shim_drop_conn_waits(s, c);
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	for (struct shim_conn **p = &s->conns; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	free(c->buf);
	free(c);
}

static void handle_request(struct shim_server *s, struct shim_conn *c, uint32_t stream, const uint8_t *data, size_t len)
{
	Ttrpc__Request *req = ttrpc__request__unpack(NULL, len, data);
	struct shim_reply reply = { 0 };
	cleanup_free char *msg = NULL;
	bool parked = false;
	int code;

	if (req == NULL) {
		(void) shim_ttrpc_respond(c->fd, stream, SHIM_INVALID_ARGUMENT, "ttrpc request does not parse", NULL);
		return;
	}
	if (strcmp(req->service, TASK_SERVICE) != 0) {
		msg = xasprintf("service %.200s is not served here (only " TASK_SERVICE ")", req->service);
		code = SHIM_UNIMPLEMENTED;
	} else {
		log_debug("rpc %s", req->method);
		code = shim_task_dispatch(s, c, stream, req->method, req->payload.data, req->payload.len, &reply, &msg,
		                          &parked);
		if (code != SHIM_OK)
			log_debug("rpc %s: %s", req->method, msg ? msg : "");
	}
	if (!parked)
		(void) shim_ttrpc_respond(c->fd, stream, code, msg, reply.msg);
	shim_reply_free(&reply);
	ttrpc__request__free_unpacked(req, NULL);
}

/* Take every complete frame out of c's buffer. An oversized frame is answered
 * with ResourceExhausted and its bytes discarded, so the stream stays in step. */
static void drain_frames(struct shim_server *s, struct shim_conn *c)
{
	size_t off = 0;

	for (;;) {
		if (c->skip > 0) {
			size_t n = c->have - off < c->skip ? c->have - off : c->skip;
			off += n;
			c->skip -= n;
			if (c->skip > 0)
				break;
		}
		if (c->have - off < 10)
			break;
		uint32_t len, stream;
		memcpy(&len, c->buf + off, 4);
		memcpy(&stream, c->buf + off + 4, 4);
		len = ntohl(len);
		stream = ntohl(stream);
		uint8_t type = c->buf[off + 8];
		if (len > SHIM_MAX_MESSAGE) {
			(void) shim_ttrpc_respond(c->fd, stream, SHIM_RESOURCE_EXHAUSTED,
			                          "message length exceeds the ttrpc limit of 4 MiB", NULL);
			off += 10;
			c->skip = len;
			continue;
		}
		if (c->have - off < 10 + (size_t) len)
			break;
		if (type == TTRPC_REQUEST)
			handle_request(s, c, stream, c->buf + off + 10, len);
		else
			(void) shim_ttrpc_respond(c->fd, stream, SHIM_INVALID_ARGUMENT,
			                          "only unary requests are served (frame type not a request)", NULL);
		off += 10 + (size_t) len;
		if (s->exiting)
			break;
	}
	memmove(c->buf, c->buf + off, c->have - off);
	c->have -= off;
}

struct shim_conn *shim_conn_open(struct shim_server *s, int fd)
{
	struct shim_conn *c = xcalloc(1, sizeof(*c));

	c->kind = SHIM_W_CONN;
	c->fd = fd;
	c->next = s->conns;
	s->conns = c;
	return c;
}

void shim_conn_close(struct shim_server *s, struct shim_conn *c)
{
	close_conn(s, c);
}

int shim_conn_feed(struct shim_server *s, struct shim_conn *c, const uint8_t *data, size_t len)
{
	/* A frame is drained as soon as it is complete, so the buffer never holds
	 * more than one frame's worth beyond what a skip discards. */
	while (len > 0 && !s->exiting) {
		size_t room = SHIM_MAX_MESSAGE + 10 - c->have, n = len < room ? len : room;
		if (c->cap < c->have + n) {
			size_t want = c->cap ? c->cap : 16384;
			while (want < c->have + n)
				want *= 2;
			c->cap = want < SHIM_MAX_MESSAGE + 10 ? want : SHIM_MAX_MESSAGE + 10;
			c->buf = xrealloc(c->buf, c->cap);
		}
		memcpy(c->buf + c->have, data, n);
		c->have += n;
		data += n;
		len -= n;
		drain_frames(s, c);
		if (c->have == SHIM_MAX_MESSAGE + 10) /* cannot happen: a full frame drains */
			return -1;
	}
	/* Keep the buffer small between bursts: the RSS is what a pod pays. */
	if (c->have == 0 && c->cap > 65536) {
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
	return 0;
}

static void read_conn(struct shim_server *s, struct shim_conn *c)
{
	uint8_t buf[16384];

	for (;;) {
		ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0 || shim_conn_feed(s, c, buf, (size_t) r) < 0) {
			close_conn(s, c);
			return;
		}
		if (s->exiting)
			return;
	}
}

static void accept_conns(struct shim_server *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct shim_conn *c = shim_conn_open(s, fd);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			close_conn(s, c);
	}
}

static struct shim_proc *proc_by_pid(struct shim_server *s, pid_t pid)
{
	for (struct shim_task *t = s->tasks; t; t = t->next) {
		if (t->init.pid == pid && t->init.status != SHIM_STOPPED)
			return &t->init;
		for (struct shim_proc *e = t->execs; e; e = e->next)
			if (e->pid == pid && e->status != SHIM_STOPPED)
				return e;
	}
	return NULL;
}

void shim_reap(struct shim_server *s)
{
	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);
		if (pid <= 0)
			return;
		struct shim_proc *p = proc_by_pid(s, pid);
		if (p != NULL)
			shim_proc_exited(s, p, st);
	}
}

static void drain_signals(struct shim_server *s)
{
	struct signalfd_siginfo si;

	while (read(s->sig_fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
		if (si.ssi_signo != SIGCHLD)
			log_debug("signal %u ignored: containerd ends the shim with Shutdown", si.ssi_signo);
	}
	shim_reap(s);
}

static int add_watch(struct shim_server *s, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Work directories of shims that were killed (named <pid>-…): nothing else removes them. */
static void remove_stale_workdirs(void)
{
	cleanup_dir DIR *d = opendir(WORK_ROOT);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL) {
		unsigned long pid;
		char *dash = strchr(e->d_name, '-');
		if (dash == NULL || e->d_name[0] == '.')
			continue;
		*dash = '\0';
		bool ok = rune_parse_ulong(e->d_name, &pid) && pid > 0 && pid < INT_MAX;
		*dash = '-';
		if (!ok || kill((pid_t) pid, 0) == 0 || errno != ESRCH)
			continue;
		rune_error_t err = NULL;
		if (rune_remove_tree_at(dirfd(d), e->d_name, &err) < 0)
			rune_error_release(&err);
	}
}

static int setup(struct shim_server *s, rune_error_t *err)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return rune_error(err, errno, "become the containers' subreaper");
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (s->epfd < 0 || s->sig_fd < 0 || s->ino_fd < 0)
		return rune_error(err, errno, "epoll / signalfd / inotify");
	if (add_watch(s, s->listen_fd, &listen_kind) < 0 || add_watch(s, s->sig_fd, &signal_kind) < 0
	    || add_watch(s, s->ino_fd, &inotify_kind) < 0)
		return rune_error(err, errno, "epoll_ctl");
	if (rune_mkdir_p(WORK_ROOT, 0700, err) < 0)
		return -1;
	remove_stale_workdirs();
	s->workdir = xasprintf(WORK_ROOT "/%d-XXXXXX", (int) getpid());
	if (mkdtemp(s->workdir) == NULL)
		return rune_error(err, errno, "mkdtemp %s", s->workdir);
	return 0;
}

static void teardown(struct shim_server *s)
{
	struct sockaddr_un sa;
	socklen_t sl = sizeof(sa);
	rune_error_t err = NULL;

	if (getsockname(s->listen_fd, (struct sockaddr *) &sa, &sl) == 0 && sa.sun_path[0] == '/')
		unlink(sa.sun_path);
	if (s->workdir && rune_remove_tree(s->workdir, &err) < 0)
		rune_error_release(&err);
	while (s->conns)
		close_conn(s, s->conns);
	if (s->events_fd >= 0)
		close(s->events_fd);
	free(s->workdir);
}

int shim_serve(struct shim_cfg *cfg, struct shim_options *opts, int listen_fd)
{
	struct shim_server s = { .cfg = cfg, .listen_fd = listen_fd, .events_fd = -1, .events_stream = 1 };
	rune_error_t err = NULL;

	shim_options_copy(&s.opts, opts);
	if (setup(&s, &err) < 0) {
		rune_log_fatal(err);
		rune_error_release(&err);
		return 1;
	}
	log_info("serving on fd %d, namespace %s, pid %d", listen_fd, cfg->ns, (int) getpid());
	while (!s.exiting) {
		struct epoll_event evs[16];
		int n = epoll_wait(s.epfd, evs, 16, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n && !s.exiting; i++) {
			enum shim_watch_kind *kind = evs[i].data.ptr;
			if (*kind == SHIM_W_LISTEN)
				accept_conns(&s);
			else if (*kind == SHIM_W_SIGNAL)
				drain_signals(&s);
			else if (*kind == SHIM_W_INOTIFY)
				shim_oom_check(&s);
			else if (*kind == SHIM_W_OOM)
				shim_oom_event(&s, (struct shim_watch *) kind);
			else
				read_conn(&s, (struct shim_conn *) kind);
		}
	}
	log_info("shutting down");
	teardown(&s);
	shim_options_free(&s.opts);
	return 0;
}
