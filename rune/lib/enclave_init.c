/* Enclave containers, the init side. The container's init loads the PAL
 * before pivot_root, calls pal_init inside the rootfs at create, and at start
 * runs the workload through the PAL instead of exec'ing it. It then stays the
 * enclave's host: it forwards signals to the workload with pal_kill and runs
 * `rune exec` requests as further enclave processes. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "enclave.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "process.h"
#include "util.h"

/* The init hosts one enclave runtime for its whole life. */
static struct pal_runtime init_rt;

int librune_enclave_init_load(const struct rune_enclave *e, rune_error_t *err)
{
	return pal_runtime_open(e->path, e->args, &init_rt, err);
}

int librune_enclave_init_create(const struct rune_enclave *e, struct enclave_info *info, rune_error_t *err)
{
	unsigned char mr[32];
	unsigned long long flags = 0;

	memset(info, 0, sizeof(*info));
	if (pal_runtime_init(&init_rt, e->args, e->loglevel, err) < 0)
		return -1;
	info->pal_version = init_rt.version;
	pal_runtime_info(&init_rt, info->info, sizeof(info->info));
	if (init_rt.version < 3)
		return 0;
	rune_error_t rerr = NULL;
	if (pal_runtime_measurement(&init_rt, mr, &flags, &rerr) < 0) {
		log_warning("%s", rerr->msg);
		rune_error_release(&rerr);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mr); i++)
		snprintf(info->measurement + 2 * i, 3, "%02x", mr[i]);
	info->has_measurement = true;
	info->debug = (flags & PAL_SGX_FLAGS_DEBUG) != 0;
	return 0;
}

/* State shared by the init's threads once the workload runs. */
static struct {
	struct pal_runtime *rt;
	pthread_mutex_t lock;
	int main_pid; /* the workload's enclave pid, once created */
	bool refused[NSIG];
	int sig_pipe[2];
} E = { .lock = PTHREAD_MUTEX_INITIALIZER, .main_pid = -1, .sig_pipe = { -1, -1 } };

/* A refused signal is reported once per signal number, not every time. */
static void report_refusal(int sig, const char *why)
{
	pthread_mutex_lock(&E.lock);
	bool first = !E.refused[sig];
	E.refused[sig] = true;
	pthread_mutex_unlock(&E.lock);
	if (first)
		log_warning("signal %d (%s) not delivered to the enclave workload: %s; not reported again", sig,
		            strsignal(sig), why);
}

static int forward_signal(int pid, int sig)
{
	if (E.rt->version < 2) {
		report_refusal(sig, "the enclave runtime implements PAL API v1, which has no pal_kill");
		return -1;
	}
	int r = pal_runtime_kill(E.rt, pid, sig);
	if (r < 0) {
		char why[64];
		snprintf(why, sizeof(why), "pal_kill returned %d", r);
		report_refusal(sig, why);
	}
	return r;
}

static void on_signal(int sig)
{
	unsigned char b = sig;
	int saved = errno;
	(void) !write(E.sig_pipe[1], &b, 1);
	errno = saved;
}

static void *signal_thread(void *unused)
{
	unsigned char b;
	for (;;) {
		ssize_t n = read(E.sig_pipe[0], &b, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		pthread_mutex_lock(&E.lock);
		int pid = E.main_pid > 0 ? E.main_pid : -1;
		pthread_mutex_unlock(&E.lock);
		forward_signal(pid, b);
	}
}

/* Handlers, not a blocked mask: PALs that fork hand their children our signal
 * mask, and execve resets handlers but keeps the mask. */
static void install_signal_forwarding(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++) {
		switch (s) {
		case SIGKILL:
		case SIGSTOP:
		case SIGCHLD:
		case SIGSEGV:
		case SIGBUS:
		case SIGILL:
		case SIGFPE:
		case SIGABRT:
		case SIGTRAP:
		case SIGSYS:
		case SIGURG:
		case SIGWINCH:
			continue;
		default:
			sigaction(s, &sa, NULL); /* glibc's internal signals refuse: fine */
		}
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void on_created(int pid, void *unused)
{
	pthread_mutex_lock(&E.lock);
	E.main_pid = pid;
	pthread_mutex_unlock(&E.lock);
}

struct exec_request {
	char **args, **env;
	bool terminal;
	unsigned width, height;
};

static void exec_request_release(struct exec_request *r)
{
	cleanup_strvp(&r->args);
	cleanup_strvp(&r->env);
}

static int parse_exec_request(const char *text, struct exec_request *r, rune_error_t *err)
{
	yajl_val tree = NULL;
	int64_t w = 0, h = 0;
	memset(r, 0, sizeof(*r));
	if (rune_json_parse(text, "exec request", &tree, err) < 0)
		return -1;
	int rc = rune_json_read_strv(rune_json_get(tree, "args"), "args", &r->args, NULL, err);
	if (rc == 0)
		rc = rune_json_read_strv(rune_json_get(tree, "env"), "env", &r->env, NULL, err);
	if (rc == 0)
		rc = rune_json_read_bool(rune_json_get(tree, "terminal"), "terminal", &r->terminal, err);
	if (rc == 0)
		rc = rune_json_read_int64(rune_json_get(tree, "width"), "width", &w, err);
	if (rc == 0)
		rc = rune_json_read_int64(rune_json_get(tree, "height"), "height", &h, err);
	yajl_tree_free(tree);
	if (rc == 0 && (r->args == NULL || r->args[0] == NULL))
		rc = rune_error(err, EINVAL, "exec request: args: empty");
	r->width = w > 0 && w < 65536 ? w : 0;
	r->height = h > 0 && h < 65536 ? h : 0;
	return rc;
}

/* A pty from the container's devpts: the slave for the process, the master for rune. */
static int open_pty(const struct exec_request *r, int *master, int *slave, rune_error_t *err)
{
	int unlock = 0, n;
	char path[64];
	*master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*master < 0)
		return rune_error(err, errno, "open /dev/ptmx in the container");
	if (ioctl(*master, TIOCSPTLCK, &unlock) < 0 || ioctl(*master, TIOCGPTN, &n) < 0)
		return rune_error(err, errno, "unlock the pty");
	snprintf(path, sizeof(path), "/dev/pts/%d", n);
	*slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return rune_error(err, errno, "open %s", path);
	if (r->width || r->height) {
		struct winsize ws = { .ws_row = r->height, .ws_col = r->width };
		ioctl(*slave, TIOCSWINSZ, &ws);
	}
	return 0;
}

struct exec_conn {
	int fd;
	int pid;
	bool done;
	pthread_mutex_t lock;
};

/* Reads signals for one exec'd process until its connection closes; a
 * connection dropped before the process ended takes the process with it. */
static void *exec_conn_reader(void *arg)
{
	struct exec_conn *c = arg;
	for (;;) {
		int type, value, fds[3];
		size_t nfds;
		rune_error_t err = NULL;
		int r = librune_enclave_msg_recv(c->fd, &type, &value, NULL, fds, &nfds, &err);
		rune_error_release(&err);
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		pthread_mutex_lock(&c->lock);
		bool done = c->done;
		pthread_mutex_unlock(&c->lock);
		if (done)
			return NULL;
		if (r < 0 || type == 0) {
			forward_signal(c->pid, SIGKILL);
			return NULL;
		}
		if (type == ENCLAVE_SIGNAL && value > 0 && value < NSIG)
			forward_signal(c->pid, value);
	}
}

static int start_exec(int fd, struct exec_request *req, int stdio[3], int *master, int *pid, rune_error_t *err)
{
	int type, value;
	size_t nfds;
	cleanup_free char *text = NULL;
	if (librune_enclave_msg_recv(fd, &type, &value, &text, stdio, &nfds, err) < 0)
		return -1;
	if (type != ENCLAVE_EXEC)
		return rune_error(err, EPROTO, "exec request: unexpected message %d", type);
	if (E.rt->version < 2)
		return rune_error(err, ENOTSUP,
		                  "the enclave runtime implements PAL API v1, which cannot run further processes");
	if (parse_exec_request(text, req, err) < 0)
		return -1;
	if (req->terminal) {
		for (size_t i = 0; i < nfds; i++)
			close(stdio[i]);
		int slave = -1;
		if (open_pty(req, master, &slave, err) < 0) {
			if (slave >= 0)
				close(slave);
			return -1;
		}
		stdio[0] = slave;
		stdio[1] = dup(slave);
		stdio[2] = dup(slave);
	} else if (nfds != 3) {
		for (size_t i = 0; i < nfds; i++)
			close(stdio[i]);
		return rune_error(err, EPROTO, "exec request: want 3 stdio fds, got %zu", nfds);
	}
	return pal_runtime_create(E.rt, req->args, req->env, stdio, pid, err);
}

static void *exec_conn_thread(void *arg)
{
	struct exec_conn c = { .fd = (int) (intptr_t) arg, .pid = -1, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct exec_request req = { 0 };
	int stdio[3] = { -1, -1, -1 }, master = -1, status = 0;
	rune_error_t err = NULL;
	pthread_t reader;

	/* Sends to a rune that went away fail; the process it asked for then
	 * ends with its connection (exec_conn_reader). */
	if (start_exec(c.fd, &req, stdio, &master, &c.pid, &err) < 0) {
		librune_enclave_msg_send(c.fd, ENCLAVE_ERROR, err->status, err->msg, NULL, 0, NULL);
		goto out;
	}
	librune_enclave_msg_send(c.fd, ENCLAVE_STARTED, c.pid, NULL, &master, master >= 0 ? 1 : 0, NULL);
	if (master >= 0) {
		close(master);
		master = -1;
	}
	bool have_reader = pthread_create(&reader, NULL, exec_conn_reader, &c) == 0;
	if (pal_runtime_exec(E.rt, c.pid, &status, &err) < 0) {
		log_warning("exec in the enclave: %s", err->msg);
		status = 255 << 8;
	}
	pthread_mutex_lock(&c.lock);
	c.done = true;
	pthread_mutex_unlock(&c.lock);
	librune_enclave_msg_send(c.fd, ENCLAVE_EXITED, status, NULL, NULL, 0, NULL);
	shutdown(c.fd, SHUT_RDWR);
	if (have_reader)
		pthread_join(reader, NULL);
out:
	rune_error_release(&err);
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0)
			close(stdio[i]);
	if (master >= 0)
		close(master);
	exec_request_release(&req);
	close(c.fd);
	return NULL;
}

static void *accept_thread(void *arg)
{
	int lfd = (int) (intptr_t) arg;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, exec_conn_thread, (void *) (intptr_t) fd) != 0)
			close(fd);
		pthread_attr_destroy(&attr);
	}
}

static void spawn_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, fn, arg) != 0)
		log_warning("enclave init: cannot start a thread: %s", strerror(errno));
	pthread_attr_destroy(&attr);
}

void librune_enclave_init_run(const struct rune_enclave *e, const struct rune_process *p, int exec_listen_fd,
                              int status_fd, int preserve_fds)
{
	static const int stdio[3] = { 0, 1, 2 };
	struct pal_runtime *rt = &init_rt;
	rune_error_t err = NULL;
	int status = 0;

	E.rt = rt;
	if (pipe2(E.sig_pipe, O_CLOEXEC) == 0) {
		spawn_thread(signal_thread, NULL);
		install_signal_forwarding();
	}
	if (exec_listen_fd >= 0)
		spawn_thread(accept_thread, (void *) (intptr_t) exec_listen_fd);
	librune_process_prepare_fds(preserve_fds, -1);
	/* PAL v1 passes no environment: a runtime that reads environ must see the
	 * workload's, never rune's (nor the enclave settings). */
	char **env = librune_enclave_workload_env(p->env);
	clearenv();
	for (char **v = env; *v; v++)
		putenv(*v);
	if (e->simulation)
		log_debug("enclave type sim: %s", ENCLAVE_SIMULATION_WARNING);
	if (pal_runtime_run(rt, p->args, env, stdio, on_created, NULL, &status, &err) < 0) {
		rune_log_fatal(err);
		rune_error_release(&err);
		status = 127 << 8;
	}
	int r = pal_runtime_destroy(rt);
	if (r < 0)
		log_warning("enclave runtime %s: pal_destroy failed with %d", rt->path, r);
	if (status_fd >= 0) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d\n", status);
		(void) rune_write_all(status_fd, buf, n);
	}
	_exit(pal_runtime_exit_code(status));
}
