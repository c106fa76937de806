/* `create`: rune's side (state, cgroup, id maps, runtime hooks) and the
 * container init's side (namespaces, rootfs, process), talking over a
 * SOCK_SEQPACKET pair. The init then blocks on exec.fifo until `start`. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "enclave.h"
#include "hooks.h"
#include "json.h"
#include "log.h"
#include "lsm.h"
#include "process.h"
#include "seccomp_filter.h"
#include "rootfs.h"
#include "spawn.h"
#include "sync.h"
#include "util.h"

struct init_args {
	const struct create_opts *o;
	const struct rune_config *config;
	const char *rootfs;
	const struct rune_cgroup *cgroup;
	int sync_fd, console_fd, fifo_fd;
	int lock_fd; /* rune's flock on the state dir: must not stay held by the init */
	/* Enclave containers only (else -1 / unused). */
	struct pal_runtime *rt;
	int exec_listen_fd, status_fd;
};

static int loopback_up(rune_error_t *err)
{
	struct ifreq ifr = { 0 };
	cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return rune_error(err, errno, "socket");
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return rune_error(err, errno, "get flags of lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return rune_error(err, errno, "bring lo up");
	return 0;
}

static bool ns_new(const struct rune_config *c, enum rune_ns_kind k)
{
	return c->ns[k].present && c->ns[k].path == NULL;
}

/* Everything up to pivot_root, in the container's new namespaces. */
static int init_namespaces_and_rootfs(struct init_args *a, int host_pid, rune_error_t *err)
{
	const struct rune_config *c = a->config;

	if (ns_new(c, NS_USER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return rune_error(err, errno, "become root in the user namespace (is id 0 mapped?)");
	if (c->hostname && c->hostname[0]) {
		if (!c->ns[NS_UTS].present)
			return rune_error(err, EINVAL, "hostname: setting it needs a private UTS namespace");
		if (sethostname(c->hostname, strlen(c->hostname)) < 0)
			return rune_error(err, errno, "sethostname %s", c->hostname);
	}
	if (c->domainname && c->domainname[0]) {
		if (!c->ns[NS_UTS].present)
			return rune_error(err, EINVAL, "domainname: setting it needs a private UTS namespace");
		if (setdomainname(c->domainname, strlen(c->domainname)) < 0)
			return rune_error(err, errno, "setdomainname %s", c->domainname);
	}
	if (ns_new(c, NS_NET) && loopback_up(err) < 0)
		return -1;
	if (!a->o->no_new_keyring && syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, a->o->id) < 0
	    && errno != ENOSYS && errno != EPERM && errno != EACCES)
		return rune_error(err, errno, "join a session keyring");
	if (!c->ns[NS_MOUNT].present)
		return rune_error(err, EINVAL, "linux.namespaces: a mount namespace is required");
	struct rootfs_ctx rc = {
		.config = c, .rootfs = a->rootfs, .cgroup = a->cgroup, .userns = c->ns[NS_USER].present
	};
	if (rootfs_prepare(&rc, err) < 0)
		return -1;
	if (sync_send(a->sync_fd, SYNC_RUNTIME_HOOKS, 0, NULL) < 0)
		return rune_error(err, errno, "talk to rune");
	if (sync_expect(a->sync_fd, SYNC_HOOKS_DONE, "rune", err) < 0)
		return -1;
	cleanup_free char *state = container_hook_state(a->o->id, a->o->bundle, host_pid, "created", c);
	if (hooks_run(c->hooks, HOOK_CREATE_CONTAINER, state, err) < 0)
		return -1;
	/* The PAL comes from a host path, so it is loaded before the host goes away. */
	if (c->enclave && enclave_init_load(c->enclave, a->rt, err) < 0)
		return -1;
	return rootfs_pivot(a->rootfs, a->o->no_pivot, err);
}

/* pal_init inside the container (files it opens resolve there, relative to
 * process.cwd) and while the init is still privileged; rune records what the
 * enclave reports. */
static int init_enclave(struct init_args *a, rune_error_t *err)
{
	struct enclave_info info;
	char text[128];
	const struct rune_process *p = &a->config->process;

	if (chdir(p->cwd) < 0)
		return rune_error(err, errno, "process.cwd: chdir to \"%s\"", p->cwd);
	if (enclave_init_create(a->config->enclave, a->rt, &info, err) < 0)
		return -1;
	snprintf(text, sizeof(text), "%s %d", info.has_measurement ? info.measurement : "-", info.debug ? 1 : 0);
	if (sync_send(a->sync_fd, SYNC_ENCLAVE, info.pal_version, text) < 0)
		return rune_error(err, errno, "talk to rune");
	return 0;
}

static void container_init(struct init_args *a) __attribute__((noreturn));
static void container_init(struct init_args *a)
{
	rune_error_t err = NULL;
	struct sync_msg go;
	const struct rune_process *p = &a->config->process;
	cleanup_free char *exe = NULL;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(a->lock_fd);
	if (sync_recv(a->sync_fd, &go, "rune", &err) < 0)
		_exit(1);
	if (go.type != SYNC_GO)
		_exit(1);
	if (init_namespaces_and_rootfs(a, go.value, &err) < 0)
		sync_fail(a->sync_fd, err);
	if (setsid() < 0) {
		rune_error(&err, errno, "setsid");
		sync_fail(a->sync_fd, err);
	}
	if (a->console_fd >= 0) {
		if (console_setup(a->console_fd, p, true, &err) < 0)
			sync_fail(a->sync_fd, err);
		close(a->console_fd);
	}
	const struct rune_enclave *enclave = a->config->enclave;
	const struct rune_seccomp *sc = a->config->seccomp_filter;
	/* runc's order: without no_new_privs loading a filter needs CAP_SYS_ADMIN,
	 * so it goes before the capabilities are dropped; with it, as late as
	 * possible, so the fewest syscalls run under it. */
	if (a->config->has_personality && personality(a->config->personality) < 0) {
		rune_error(&err, errno, "linux.personality");
		sync_fail(a->sync_fd, err);
	}
	if (rootfs_finalize(a->config, &err) < 0 || (enclave && init_enclave(a, &err) < 0)
	    || (!enclave && process_find_executable(p, &exe, &err) < 0)
	    || (sc && !p->no_new_privileges && seccomp_load_and_hand_over(sc, a->sync_fd, &err) < 0)
	    || process_apply(p, &err) < 0 || process_apply_nnp(p, &err) < 0
	    || (sc && p->no_new_privileges && seccomp_load_and_hand_over(sc, a->sync_fd, &err) < 0))
		sync_fail(a->sync_fd, err);
	/* An enclave init never execs: it stays the rune binary with the PAL's
	 * state, so keep /proc/1/{exe,mem,fd} out of the workload's reach. */
	if (enclave && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		rune_error(&err, errno, "prctl(PR_SET_DUMPABLE)");
		sync_fail(a->sync_fd, err);
	}
	prctl(PR_SET_PDEATHSIG, 0);
	sync_send(a->sync_fd, SYNC_READY, 0, NULL);
	close(a->sync_fd);

	/* Wait for `start`: it opens the FIFO for reading, which unblocks us. */
	char fifo[64];
	snprintf(fifo, sizeof(fifo), "/proc/self/fd/%d", a->fifo_fd);
	int w = open(fifo, O_WRONLY | O_CLOEXEC);
	if (w < 0 || write(w, "0", 1) != 1) {
		rune_log(RUNE_LOG_ERROR, "open exec fifo: %s", strerror(errno));
		_exit(1);
	}
	close(w);
	close(a->fifo_fd);
	cleanup_free char *state = container_hook_state(a->o->id, a->o->bundle, go.value, "running", a->config);
	if (hooks_run(a->config->hooks, HOOK_START_CONTAINER, state, &err) < 0) {
		rune_log_fatal(err);
		_exit(127);
	}
	if (enclave)
		enclave_init_run(a->rt, enclave, p, a->exec_listen_fd, a->status_fd, a->o->preserve_fds);
	if (lsm_apply_on_exec(p, &err) < 0 || process_exec(exe, p, a->o->preserve_fds, &err) < 0) {
		rune_log_fatal(err);
		_exit(127);
	}
	_exit(127);
}

static int write_id_map(pid_t pid, const char *file, const struct rune_idmap *m, size_t n, rune_error_t *err)
{
	if (idmap_write(pid, file, m, n, err) < 0)
		return rune_error_wrap(err, "linux.%s", strcmp(file, "uid_map") ? "gidMappings" : "uidMappings");
	return 0;
}

static void record_enclave(struct rune_container *c, const struct sync_msg *m)
{
	char mr[65] = "";
	int debug = 0;
	c->pal_version = m->value;
	if (sscanf(m->text, "%64s %d", mr, &debug) == 2 && strcmp(mr, "-") != 0) {
		free(c->measurement);
		c->measurement = xstrdup(mr);
		c->enclave_debug = debug != 0;
	}
}

/* Program the devices controller before the init creates or opens any node. */
static int apply_devices(struct rune_container *c, rune_error_t *err)
{
	const struct rune_config *cfg = c->config;
	size_t n = cfg->n_devices;
	cleanup_free char *types = xcalloc(n + 1, 1);
	cleanup_free long long *maj = xcalloc(n + 1, sizeof(long long)), *min = xcalloc(n + 1, sizeof(long long));
	for (size_t i = 0; i < n; i++) {
		types[i] = cfg->devices[i].type == 'u' ? 'c' : cfg->devices[i].type;
		maj[i] = cfg->devices[i].major;
		min[i] = cfg->devices[i].minor;
	}
	return cgroup_apply_devices(c->cgroup, json_get(cfg->resources, "devices"), types, maj, min, n, err);
}

/* rune's side while the init sets itself up: ids, cgroup, hooks. */
static int drive_init(struct rune_container *c, bool systemd, pid_t pid, int sync_fd, rune_error_t *err)
{
	const struct rune_config *cfg = c->config;
	struct sync_msg m;

	if (ns_new(cfg, NS_USER)
	    && (write_id_map(pid, "uid_map", cfg->uid_mappings, cfg->n_uid_mappings, err) < 0
	        || write_id_map(pid, "gid_map", cfg->gid_mappings, cfg->n_gid_mappings, err) < 0))
		return -1;
	if ((systemd ? cgroup_systemd_place(cfg->cgroups_path, c->id, pid, &c->cgroup, err)
	             : cgroup_enter(c->cgroup, pid, err))
	        < 0
	    || cgroup_apply_resources(c->cgroup, cfg->resources, err) < 0 || apply_devices(c, err) < 0)
		return -1;
	if (sync_send(sync_fd, SYNC_GO, pid, NULL) < 0)
		return rune_error(err, errno, "talk to the container init");
	for (;;) {
		if (sync_recv(sync_fd, &m, "container init", err) < 0)
			return -1;
		if (m.type == SYNC_ERROR)
			return rune_error(err, 0, "%s", m.text);
		if (m.type == SYNC_READY)
			return 0;
		if (m.type == SYNC_ENCLAVE) {
			record_enclave(c, &m);
			continue;
		}
		if (m.type == SYNC_SECCOMP) {
			cleanup_free char *state = container_hook_state(c->id, c->bundle, pid, "creating", cfg);
			if (seccomp_forward_listener(cfg->seccomp_filter, sync_fd, pid, state, err) < 0)
				return -1;
			continue;
		}
		if (m.type != SYNC_RUNTIME_HOOKS)
			return rune_error(err, EPROTO, "unexpected message %d from the container init", m.type);
		cleanup_free char *state = container_hook_state(c->id, c->bundle, pid, "creating", cfg);
		rune_error_t herr = NULL;
		if (hooks_run(cfg->hooks, HOOK_PRESTART, state, &herr) < 0
		    || hooks_run(cfg->hooks, HOOK_CREATE_RUNTIME, state, &herr) < 0) {
			sync_send(sync_fd, SYNC_ERROR, 0, herr->msg);
			return rune_error_move(err, &herr);
		}
		sync_send(sync_fd, SYNC_HOOKS_DONE, 0, NULL);
	}
}

/* A sysctl must belong to a namespace of the container's own. */
static int validate_sysctls(const struct rune_config *c, rune_error_t *err)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb",          "kernel.msgmni",
		                           "kernel.sem",    "kernel.shmall",          "kernel.shmmax",
		                           "kernel.shmmni", "kernel.shm_rmid_forced", NULL };
	for (size_t i = 0; c->sysctl_keys && c->sysctl_keys[i]; i++) {
		const char *k = c->sysctl_keys[i];
		bool in_ipc = strncmp(k, "fs.mqueue.", 10) == 0;
		for (size_t j = 0; ipc[j]; j++)
			in_ipc |= strcmp(k, ipc[j]) == 0;
		if (strncmp(k, "net.", 4) == 0) {
			if (!c->ns[NS_NET].present)
				return rune_error(err, EINVAL, "linux.sysctl.%s: needs a network namespace of its own",
				                  k);
		} else if (in_ipc) {
			if (!c->ns[NS_IPC].present)
				return rune_error(err, EINVAL, "linux.sysctl.%s: needs an IPC namespace of its own", k);
		} else if (strcmp(k, "kernel.hostname") == 0 || strcmp(k, "kernel.domainname") == 0) {
			if (!c->ns[NS_UTS].present)
				return rune_error(err, EINVAL, "linux.sysctl.%s: needs a UTS namespace of its own", k);
		} else {
			return rune_error(err, EPERM,
			                  "linux.sysctl.%s: not namespaced; setting it would change the host", k);
		}
	}
	return 0;
}

static int validate_create(struct create_opts *o, struct rune_config *cfg, rune_error_t *err)
{
	if (validate_sysctls(cfg, err) < 0 || lsm_check(&cfg->process, cfg->mount_label, "process", err) < 0)
		return -1;
	if (!cfg->has_process)
		return rune_error(err, EINVAL, "config.json: process: missing (rune needs a process to run)");
	if (cfg->process.terminal && !o->console_socket && !o->foreground)
		return rune_error(err, EINVAL,
		                  "cannot allocate tty if rune will detach without setting console socket");
	if (!cfg->process.terminal && o->console_socket)
		return rune_error(err, EINVAL, "cannot use console socket if rune will not detach or allocate tty");
	return enclave_prepare_host(cfg, err);
}

/* Make sure fds 3..3+n-1 exist, so nothing of ours lands there and leaks in. */
static void reserve_preserved_fds(int n)
{
	for (int fd = 3; fd < 3 + n; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int nul = open("/dev/null", O_RDWR);
			if (nul >= 0 && nul != fd) {
				dup2(nul, fd);
				close(nul);
			}
		}
}

static int prepare_state_dir(struct create_opts *o, struct rune_container *c, rune_error_t *err)
{
	if (mkdir_p(o->root, 0711, err) < 0)
		return -1;
	if (mkdir(c->dir, 0711) < 0) {
		if (errno == EEXIST)
			return rune_error(err, EEXIST, "container with id exists: %s", o->id);
		return rune_error(err, errno, "create state directory %s", c->dir);
	}
	c->lock_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX) < 0)
		return rune_error(err, errno, "lock %s", c->dir);
	return 0;
}

static int copy_config(struct rune_container *c, const char *src, rune_error_t *err)
{
	cleanup_free char *text = NULL;
	size_t len;
	cleanup_free char *dst = xasprintf("%s/config.json", c->dir);
	if (read_file(src, 4 << 20, &text, &len, err) < 0)
		return -1;
	return write_file_atomic(dst, text, len, 0600, err);
}

static int resolve_bundle(struct create_opts *o, struct rune_container *c, rune_error_t *err)
{
	cleanup_free char *abs = realpath(o->bundle && o->bundle[0] ? o->bundle : ".", NULL);
	if (abs == NULL)
		return rune_error(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	cleanup_free char *cfgpath = xasprintf("%s/config.json", abs);
	if (config_load(cfgpath, &c->config, err) < 0)
		return -1;
	cleanup_free char *root = c->config->root_path[0] == '/' ? xstrdup(c->config->root_path)
	                                                         : xasprintf("%s/%s", abs, c->config->root_path);
	c->rootfs = realpath(root, NULL);
	struct stat st;
	if (c->rootfs == NULL || stat(c->rootfs, &st) < 0)
		return rune_error(err, errno, "root.path: rootfs %s", root);
	if (!S_ISDIR(st.st_mode))
		return rune_error(err, ENOTDIR, "root.path: rootfs %s", root);
	c->bundle = take_ptr(abs);
	return 0;
}

static int spawn_init(struct rune_container *c, struct init_args *a, pid_t *pid_out, rune_error_t *err)
{
	const struct rune_config *cfg = c->config;
	int ns_fds[NS_KINDS];
	int flags = 0, r = 0;

	for (int k = 0; k < NS_KINDS; k++) {
		ns_fds[k] = -1;
		if (!cfg->ns[k].present)
			continue;
		if (cfg->ns[k].path == NULL) {
			if (k != NS_TIME)
				flags |= ns_kind_clone_flag(k);
			continue;
		}
		ns_fds[k] = open(cfg->ns[k].path, O_RDONLY | O_CLOEXEC);
		if (ns_fds[k] < 0) {
			r = rune_error(err, errno, "linux.namespaces: open %s namespace %s", ns_kind_name(k),
			               cfg->ns[k].path);
			break;
		}
	}
	pid_t pid = r < 0 ? -1 : spawn_in_namespaces(ns_fds, flags, ns_new(cfg, NS_TIME), cfg->time_offsets, err);
	if (pid == 0) {
		for (int k = 0; k < NS_KINDS; k++)
			if (ns_fds[k] >= 0)
				close(ns_fds[k]);
		container_init(a);
	}
	for (int k = 0; k < NS_KINDS; k++)
		if (ns_fds[k] >= 0)
			close(ns_fds[k]);
	if (pid < 0)
		return -1;
	*pid_out = pid;
	return 0;
}

/* The socket `rune exec` reaches the enclave through, and the file the init
 * leaves the workload's status in. Bound through /proc/self/fd so the
 * sun_path limit never depends on --root's length. */
static int enclave_channels(struct rune_container *c, int *listen_fd, int *status_fd, rune_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/" ENCLAVE_SOCKET, c->lock_fd);
	*listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (*listen_fd < 0)
		return rune_error(err, errno, "socket");
	if (bind(*listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0
	    || fchmodat(c->lock_fd, ENCLAVE_SOCKET, 0600, 0) < 0 || listen(*listen_fd, 64) < 0)
		return rune_error(err, errno, "enclave exec socket %s/" ENCLAVE_SOCKET, c->dir);
	*status_fd = openat(c->lock_fd, ENCLAVE_STATUS, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*status_fd < 0)
		return rune_error(err, errno, "create %s/" ENCLAVE_STATUS, c->dir);
	return 0;
}

static int create_in_state_dir(struct create_opts *o, struct rune_container *c, rune_error_t *err)
{
	cleanup_close int listen_fd = -1, status_fd = -1;
	struct pal_runtime rt = { 0 };
	int sv[2] = { -1, -1 }, con[2] = { -1, -1 };
	cleanup_close int console_fd = -1;
	pid_t pid = -1;

	cleanup_free char *fifo = xasprintf("%s/exec.fifo", c->dir);
	if (mkfifo(fifo, 0622) < 0)
		return rune_error(err, errno, "mkfifo %s", fifo);
	/* Not subject to the umask: a non-root process user must be able to open it. */
	if (chmod(fifo, 0622) < 0)
		return rune_error(err, errno, "chmod %s", fifo);
	cleanup_close int fifo_fd = open(fifo, O_PATH | O_CLOEXEC);
	if (fifo_fd < 0)
		return rune_error(err, errno, "open %s", fifo);
	/* With --systemd-cgroup, systemd makes the cgroup once the init exists. */
	if (!o->systemd_cgroup && cgroup_create(c->config->cgroups_path, c->id, &c->cgroup, err) < 0)
		return -1;
	if (o->console_socket && console_socket_connect(o->console_socket, &console_fd, err) < 0)
		return -1;
	if (o->foreground && c->config->process.terminal && !o->console_socket) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0)
			return rune_error(err, errno, "socketpair");
		console_fd = con[1];
	}
	if (c->config->enclave && enclave_channels(c, &listen_fd, &status_fd, err) < 0)
		return -1;
	if (idmap_mounts_prepare(c->config, err) < 0) {
		idmap_mounts_close(c->config);
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return rune_error(err, errno, "socketpair");
	struct init_args a = { .o = o,
		               .config = c->config,
		               .rootfs = c->rootfs,
		               .cgroup = c->cgroup,
		               .sync_fd = sv[1],
		               .console_fd = console_fd,
		               .fifo_fd = fifo_fd,
		               .lock_fd = c->lock_fd,
		               .rt = &rt,
		               .exec_listen_fd = listen_fd,
		               .status_fd = status_fd };
	int r = spawn_init(c, &a, &pid, err);
	idmap_mounts_close(c->config); /* the init has its copies */
	close(sv[1]);
	if (r == 0) {
		c->pid = pid;
		c->start_time = proc_start_time(pid, NULL);
		r = drive_init(c, o->systemd_cgroup, pid, sv[0], err);
	}
	close(sv[0]);
	if (r == 0 && con[0] >= 0) {
		r = recv_fd(con[0], &o->console_master_out, err);
	}
	if (con[0] >= 0)
		close(con[0]);
	if (r < 0 && pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return r;
}

int container_create(struct create_opts *o, struct rune_container **out, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	struct timespec now;
	char ts[64];

	if (container_validate_id(o->id, err) < 0)
		return -1;
	c = xcalloc(1, sizeof(*c));
	c->lock_fd = -1;
	c->root = xstrdup(o->root);
	c->id = xstrdup(o->id);
	c->dir = xasprintf("%s/%s", o->root, o->id);
	o->console_master_out = -1;
	if (resolve_bundle(o, c, err) < 0 || validate_create(o, c->config, err) < 0)
		return -1;
	if (o->listen_fds > 0) {
		/* As runc: socket-activation fds come first and the process learns of them. */
		cleanup_free char *lf = xasprintf("LISTEN_FDS=%d", o->listen_fds);
		strv_append(&c->config->process.env, lf);
		strv_append(&c->config->process.env, "LISTEN_PID=1");
		o->preserve_fds += o->listen_fds;
	}
	reserve_preserved_fds(o->preserve_fds);
	if (prepare_state_dir(o, c, err) < 0)
		return -1;
	clock_gettime(CLOCK_REALTIME, &now);
	format_rfc3339nano(&now, true, ts, sizeof(ts));
	c->created = xstrdup(ts);
	cleanup_free char *cfgpath = xasprintf("%s/config.json", c->bundle);
	/* Relative bind-mount sources are relative to the bundle. */
	if (chdir(c->bundle) < 0) {
		rune_error(err, errno, "chdir %s", c->bundle);
		goto fail;
	}
	if (copy_config(c, cfgpath, err) < 0 || create_in_state_dir(o, c, err) < 0 || container_save(c, err) < 0)
		goto fail;
	if (o->pid_file && write_pid_file(o->pid_file, c->pid, err) < 0)
		goto fail;
	*out = take_ptr(c);
	return 0;
fail:
	if (c->cgroup)
		cgroup_destroy(c->cgroup, NULL);
	if (c->lock_fd >= 0)
		container_remove_state(c->root, c->id);
	if (o->console_master_out >= 0) {
		close(o->console_master_out);
		o->console_master_out = -1;
	}
	return -1;
}
