/* `rune exec` into an enclave container: the command runs as another process
 * of the same enclave, created by the container's init through the PAL. rune
 * hands its request (argv intact, env, terminal) and stdio to the init over
 * the container's enclave socket; a small proxy process then stands for the
 * enclave process on the host: signals sent to it reach the enclave process,
 * and it exits with that process's status, so --pid-file, --detach and
 * containerd's exec handling work unchanged. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "enclave.h"
#include "json.h"
#include "loader.h"
#include "spawn.h"
#include "sync.h"
#include "util.h"

static int connect_enclave(struct rune_container *c, int *fd, rune_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	/* Through the state dir's fd: the path stays short whatever --root is. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" ENCLAVE_SOCKET, c->lock_fd);
	*fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return rune_error(err, errno, "socket");
	if (connect(*fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return rune_error(err, errno, "connect to the enclave of container %s (%s/" ENCLAVE_SOCKET ")", c->id,
		                  c->dir);
	return 0;
}

static char *exec_request_json(const struct rune_process *p)
{
	cleanup_strv char **env = librune_enclave_workload_env(p->env);
	yajl_gen g = rune_json_gen_new(false, NULL);
	const unsigned char *buf;
	size_t len;
	yajl_gen_map_open(g);
	rune_json_gen_key(g, "args");
	yajl_gen_array_open(g);
	for (char **a = p->args; a && *a; a++)
		yajl_gen_string(g, (const unsigned char *) *a, strlen(*a));
	yajl_gen_array_close(g);
	rune_json_gen_key(g, "env");
	yajl_gen_array_open(g);
	for (char **e = env; *e; e++)
		yajl_gen_string(g, (const unsigned char *) *e, strlen(*e));
	yajl_gen_array_close(g);
	rune_json_gen_kv_bool(g, "terminal", p->terminal);
	rune_json_gen_kv_int(g, "width", p->console_width);
	rune_json_gen_kv_int(g, "height", p->console_height);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	char *s = xasprintf("%.*s", (int) len, buf);
	yajl_gen_free(g);
	return s;
}

/* Send the request; on success the enclave pid and (terminal) the pty master. */
static int request_exec(const struct rune_container *c, int sock, const struct exec_opts *o, int *master,
                        rune_error_t *err)
{
	static const int stdio[3] = { 0, 1, 2 };
	const struct rune_process *p = o->process;
	const struct sync_peer init = {
		.name = "enclave's init", .pid = c->pid, .cgroup = c->cgroup, .wait_if_frozen = o->ignore_paused
	};
	cleanup_free char *req = exec_request_json(p);
	cleanup_free char *text = NULL;
	int type, value, fds[3];
	size_t nfds;

	if (strlen(req) + 8 > ENCLAVE_MSG_MAX)
		return rune_error(err, E2BIG, "exec: arguments and environment exceed %d bytes", ENCLAVE_MSG_MAX);
	if (librune_enclave_msg_send(sock, ENCLAVE_EXEC, 0, req, stdio, p->terminal ? 0 : 3, err) < 0)
		return rune_error_wrap(err, "exec in the enclave");
	if (librune_sync_wait_peer(sock, &init, err) < 0
	    || librune_enclave_msg_recv(sock, &type, &value, &text, fds, &nfds, err) < 0)
		return rune_error_wrap(err, "exec in the enclave");
	if (type == ENCLAVE_ERROR)
		return rune_error(err, 0, "exec in the enclave: %s", text); /* text carries the cause */
	if (type != ENCLAVE_STARTED)
		return rune_error(err, EPROTO, "exec in the enclave: the container init closed the connection");
	if (p->terminal && nfds != 1)
		return rune_error(err, EPROTO, "exec in the enclave: no terminal received");
	if (nfds == 1)
		*master = fds[0];
	return 0;
}

/* The proxy: relays signals to the enclave process, exits with its status. */
static void proxy_main(int sock) __attribute__((noreturn));
static void proxy_main(int sock)
{
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* Hold no copy of the caller's stdio: its readers wait for EOF. */
	for (int i = 0; i < 3 && null >= 0; i++)
		dup2(null, i);
	setsid();
	for (;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(255);
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD
			    && si.ssi_signo != SIGWINCH && si.ssi_signo != SIGURG)
				librune_enclave_msg_send(sock, ENCLAVE_SIGNAL, si.ssi_signo, NULL, NULL, 0, NULL);
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int type, value, fds[3];
			size_t nfds;
			rune_error_t err = NULL;
			if (librune_enclave_msg_recv(sock, &type, &value, NULL, fds, &nfds, &err) < 0 || type == 0)
				_exit(255);
			if (type == ENCLAVE_EXITED)
				_exit(pal_runtime_exit_code(value));
		}
	}
}

/* The proxy, accounted with the container and reached by kill --all and
 * delete: born in its cgroup, as an exec'd process is (cgroup.h). */
static int start_proxy(struct rune_container *c, int sock, int master, pid_t *pid_out, rune_error_t *err)
{
	cleanup_cgroup_entry struct cgroup_entry entry = { .v2_fd = -1 };
	const int no_ns[NS_KINDS] = { [0 ... NS_KINDS - 1] = -1 };
	int joined[2];
	bool born_in = false;

	if (librune_cgroup_entry_open(c->cgroup, NULL, &entry, err) < 0)
		return -1;
	if (pipe2(joined, O_CLOEXEC) < 0)
		return rune_error(err, errno, "pipe");
	struct spawn_opts so = { .cgroup_fd = entry.v2_fd };
	pid_t pid = librune_spawn_in_namespaces(no_ns, &so, &born_in, err);
	if (pid == 0) {
		rune_error_t e = NULL;
		close(joined[0]);
		if (librune_cgroup_entry_join_v1(&entry, &e) < 0) {
			(void) !write(joined[1], e->msg, strlen(e->msg));
			_exit(1);
		}
		close(joined[1]);
		if (master >= 0)
			close(master);
		close(c->lock_fd);
		proxy_main(sock);
	}
	close(joined[1]);
	/* EOF once the proxy joined the v1 hierarchies; its error if not. */
	char msg[512];
	ssize_t n = pid < 0 ? 0 : read(joined[0], msg, sizeof(msg) - 1);
	close(joined[0]);
	if (pid < 0)
		return -1;
	*pid_out = pid;
	if (n > 0) {
		msg[n] = '\0';
		return rune_error(err, 0, "the exec proxy: %s", msg);
	}
	if (!born_in && librune_cgroup_entry_join_v2(&entry, pid, err) < 0)
		return -1;
	return 0;
}

int librune_enclave_exec(struct rune_container *c, struct exec_opts *o, int *exit_code, rune_error_t *err)
{
	cleanup_close int sock = -1, console_fd = -1;
	int master = -1;
	const struct rune_process *p = o->process;

	const struct rune_process *init = &c->config->process;
	if (librune_container_status(c) == STATUS_CREATED)
		return rune_error(err, 0, "cannot exec in enclave container %s before it is started", c->id);
	/* The PAL API has no place for these: refuse rather than ignore them. */
	if (p->uid != init->uid || p->gid != init->gid)
		return rune_error(err, ENOTSUP, "exec in an enclave runs as the container's user %u:%u, not %u:%u",
		                  (unsigned) init->uid, (unsigned) init->gid, (unsigned) p->uid, (unsigned) p->gid);
	if (p->cwd && init->cwd && strcmp(p->cwd, init->cwd) != 0)
		return rune_error(err, ENOTSUP, "exec in an enclave runs in the container's cwd %s, not %s", init->cwd,
		                  p->cwd);
	if (o->preserve_fds > 0)
		return rune_error(err, ENOTSUP,
		                  "--preserve-fds: an enclave process gets only stdin, stdout and stderr");
	if (p->terminal && !o->console_socket && o->detach)
		return rune_error(err, EINVAL,
		                  "cannot allocate tty if rune will detach without setting console socket");
	if (o->console_socket && librune_console_socket_connect(o->console_socket, &console_fd, err) < 0)
		return -1;
	librune_container_unlock(c); /* as for a plain exec: resume, kill and delete stay possible */
	if (connect_enclave(c, &sock, err) < 0 || request_exec(c, sock, o, &master, err) < 0)
		return -1;
	/* Signals meant for the process queue until the proxy relays them. */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t pid = -1;
	int r = start_proxy(c, sock, master, &pid, err);
	if (r == 0 && o->pid_file)
		r = librune_write_pid_file(o->pid_file, pid, err);
	if (r == 0 && master >= 0 && console_fd >= 0) {
		r = librune_console_send_master(console_fd, master, err);
		close(master);
		master = -1;
	}
	close(sock);
	sock = -1;
	if (r < 0 && pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (r == 0 && !o->detach)
		r = librune_wait_foreground(pid, master, exit_code, err);
	else if (master >= 0)
		close(master);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return r;
}
