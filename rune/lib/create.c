/* `create`, rune's side: read and check the bundle before anything exists,
 * make the state directory, the cgroup and the channels, clone the init
 * (init.c) and drive it until it reports READY: id maps, cgroup placement
 * and limits, runtime hooks, the seccomp listener, what an enclave reports. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "dmz.h"
#include "enclave.h"
#include "hooks.h"
#include "json.h"
#include "init.h"
#include "log.h"
#include "lsm.h"
#include "sealed_exe.h"
#include "seccomp_filter.h"
#include "spawn.h"
#include "sync.h"
#include "util.h"

/* A sysctl must belong to a namespace of the container's own. */
static int check_sysctls(const struct rune_config *c, rune_error_t *err)
{
	static const char *const ipc[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"
	};
	for (size_t i = 0; c->sysctl_keys && c->sysctl_keys[i]; i++) {
		const char *k = c->sysctl_keys[i];
		bool in_ipc = strncmp(k, "fs.mqueue.", 10) == 0;
		for (size_t j = 0; j < ARRAY_SIZE(ipc); j++)
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

/* Everything that can be refused from the config and the flags alone. */
static int check_config(const struct create_opts *o, const struct rune_config *cfg, rune_error_t *err)
{
	if (!cfg->has_process)
		return rune_error(err, EINVAL, "config.json: process: missing (rune needs a process to run)");
	if (cfg->process.terminal && !o->console_socket && !o->foreground)
		return rune_error(err, EINVAL,
		                  "cannot allocate tty if rune will detach without setting console socket");
	if (!cfg->process.terminal && o->console_socket)
		return rune_error(err, EINVAL, "cannot use console socket if rune will not detach or allocate tty");
	if (check_sysctls(cfg, err) < 0 || librune_lsm_check(&cfg->process, cfg->mount_label, "process", err) < 0
	    || librune_cgroup_check_resources(cfg->resources, err) < 0
	    || librune_enclave_check_host(cfg->enclave, err) < 0)
		return -1;
	return 0;
}

/* The bundle's config.json, read once: *text is what was parsed and what
 * copy_config keeps (a second read could see another file). */
static int load_bundle(const struct create_opts *o, struct rune_container *c, char **text, size_t *len,
                       rune_error_t *err)
{
	cleanup_free char *abs = realpath(o->bundle && o->bundle[0] ? o->bundle : ".", NULL);
	if (abs == NULL)
		return rune_error(err, errno, "bundle %s", o->bundle ? o->bundle : ".");
	cleanup_free char *cfgpath = xasprintf("%s/config.json", abs);
	if (rune_read_file(cfgpath, CONFIG_MAX_BYTES, text, len, err) < 0
	    || librune_config_parse(*text, cfgpath, &c->config, err) < 0)
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
	log_debug("create %s: bundle %s, rootfs %s", c->id, c->bundle, c->rootfs);
	return 0;
}

/* Socket activation: LISTEN_FDS come first and the process learns of them, as with runc. */
static void pass_listen_fds(struct create_opts *o, struct rune_config *cfg)
{
	if (o->listen_fds <= 0)
		return;
	cleanup_free char *lf = xasprintf("LISTEN_FDS=%d", o->listen_fds);
	rune_strv_append(&cfg->process.env, lf);
	rune_strv_append(&cfg->process.env, "LISTEN_PID=1");
	o->preserve_fds += o->listen_fds;
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

static int make_state_dir(const struct create_opts *o, struct rune_container *c, rune_error_t *err)
{
	if (rune_mkdir_p(o->root, 0711, err) < 0)
		return -1;
	if (mkdir(c->dir, 0711) < 0) {
		if (errno == EEXIST)
			return rune_error(err, EEXIST, "container with id exists: %s", o->id);
		return rune_error(err, errno, "create state directory %s", c->dir);
	}
	c->lock_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX) < 0)
		return rune_error(err, errno, "lock %s", c->dir);
	struct timespec now;
	char ts[64];
	clock_gettime(CLOCK_REALTIME, &now);
	rune_format_rfc3339nano(&now, true, ts, sizeof(ts));
	c->created = xstrdup(ts);
	return 0;
}

/* The copy of config.json every later command reads. */
static int copy_config(struct rune_container *c, const char *text, size_t len, rune_error_t *err)
{
	cleanup_free char *dst = xasprintf("%s/config.json", c->dir);
	return rune_write_file_replace(dst, text, len, 0600, err);
}

/* With --systemd-cgroup, systemd makes the cgroup once the init exists. A
 * frozen cgroup is refused (the init could never answer); one that already
 * holds processes is used with a warning, as runc does. */
static int make_cgroup(const struct create_opts *o, struct rune_container *c, rune_error_t *err)
{
	if (o->systemd_cgroup)
		return 0;
	/* What this create makes is recorded before it is made: if rune is
	 * killed before the state exists, `delete --force` removes it. */
	if (librune_cgroup_plan(c->config->cgroups_path, c->id, &c->cgroup, err) < 0
	    || librune_container_record_cgroup(c, err) < 0 || librune_cgroup_make(c->cgroup, err) < 0)
		return -1;
	if (librune_cgroup_is_frozen(c->cgroup))
		return rune_error(err, EBUSY,
		                  "container's cgroup unexpectedly frozen (%s): thaw it or choose another "
		                  "linux.cgroupsPath",
		                  c->cgroup->h[0].dir);
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	if (librune_cgroup_pids(c->cgroup, &pids, &n, NULL) == 0 && n > 0)
		log_warning("container's cgroup is not empty: %zu process(es) found in %s", n, c->cgroup->h[0].dir);
	log_debug("create %s: cgroup %s", c->id, c->cgroup->h[0].dir);
	return 0;
}

/* The socket `rune exec` reaches an enclave through, and the file the init
 * leaves the workload's status in. Bound through /proc/self/fd so the
 * sun_path limit never depends on --root's length. */
static int make_enclave_channels(struct rune_container *c, int *listen_fd, int *status_fd, rune_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (c->config->enclave == NULL)
		return 0;
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

/* exec.fifo: the init blocks opening it until `start` opens the other end. */
static int make_exec_fifo(struct rune_container *c, int *fd, rune_error_t *err)
{
	cleanup_free char *fifo = xasprintf("%s/exec.fifo", c->dir);
	if (mkfifo(fifo, 0622) < 0)
		return rune_error(err, errno, "mkfifo %s", fifo);
	/* Not subject to the umask: a non-root process user must be able to open it. */
	if (chmod(fifo, 0622) < 0)
		return rune_error(err, errno, "chmod %s", fifo);
	*fd = open(fifo, O_PATH | O_CLOEXEC);
	if (*fd < 0)
		return rune_error(err, errno, "open %s", fifo);
	return 0;
}

/* Where the terminal goes: the client's --console-socket, or (foreground
 * `run`) a socket pair whose other end rune keeps to proxy the pty. */
static int make_console_channel(struct create_opts *o, const struct rune_config *cfg, int *init_end, int *rune_end,
                                rune_error_t *err)
{
	if (o->console_socket)
		return librune_console_socket_connect(o->console_socket, init_end, err);
	if (!o->foreground || !cfg->process.terminal)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return rune_error(err, errno, "socketpair");
	*rune_end = sv[0];
	*init_end = sv[1];
	return 0;
}

static int clone_init(struct rune_container *c, struct init_args *a, bool *born_in_cgroup, pid_t *pid_out,
                      rune_error_t *err)
{
	const struct rune_config *cfg = c->config;
	int ns_fds[NS_KINDS];
	struct spawn_opts so = { .new_time_ns = config_ns_new(cfg, NS_TIME),
		                 .time_offsets = cfg->time_offsets,
		                 .cgroup_fd = a->cgroup_entry->v2_fd };
	int r = 0;

	for (int k = 0; k < NS_KINDS; k++) {
		ns_fds[k] = -1;
		if (!cfg->ns[k].present)
			continue;
		if (cfg->ns[k].path == NULL) {
			/* A new cgroup namespace is rooted where its creator is:
			 * the init unshares it once in the container's cgroup. */
			if (k != NS_TIME && k != NS_CGROUP)
				so.clone_flags |= librune_ns_kind_clone_flag(k);
			continue;
		}
		ns_fds[k] = open(cfg->ns[k].path, O_RDONLY | O_CLOEXEC);
		if (ns_fds[k] < 0) {
			r = rune_error(err, errno, "linux.namespaces: open %s namespace %s", librune_ns_kind_name(k),
			               cfg->ns[k].path);
			break;
		}
	}
	pid_t pid = r < 0 ? -1 : librune_spawn_in_namespaces(ns_fds, &so, born_in_cgroup, err);
	if (pid == 0) {
		for (int k = 0; k < NS_KINDS; k++)
			if (ns_fds[k] >= 0 && k != NS_CGROUP)
				close(ns_fds[k]);
		a->cgroup_ns_fd = ns_fds[NS_CGROUP];
		librune_init_main(a);
	}
	for (int k = 0; k < NS_KINDS; k++)
		if (ns_fds[k] >= 0)
			close(ns_fds[k]);
	if (pid < 0)
		return -1;
	*pid_out = pid;
	log_debug("create %s: init %d cloned%s", c->id, (int) pid, *born_in_cgroup ? " into its cgroup" : "");
	return 0;
}

static int write_id_maps(const struct rune_config *cfg, pid_t pid, rune_error_t *err)
{
	if (!config_ns_new(cfg, NS_USER))
		return 0;
	if (librune_idmap_write(pid, "uid_map", cfg->uid_mappings, cfg->n_uid_mappings, err) < 0)
		return rune_error_wrap(err, "linux.uidMappings");
	if (librune_idmap_write(pid, "gid_map", cfg->gid_mappings, cfg->n_gid_mappings, err) < 0)
		return rune_error_wrap(err, "linux.gidMappings");
	return 0;
}

/* (the init was born in the cgroup2 directory, or is moved there now, and
 * has joined the v1 hierarchies itself: cgroup.h) */
static int place_in_cgroup(struct rune_container *c, bool systemd, const struct cgroup_entry *entry, bool born_in,
                           pid_t pid, rune_error_t *err)
{
	const struct rune_config *cfg = c->config;
	if ((systemd   ? librune_cgroup_systemd_place(cfg->cgroups_path, c->id, pid, &c->cgroup, err)
	     : born_in ? 0
	               : librune_cgroup_entry_join_v2(entry, pid, err))
	    < 0)
		return -1;
	/* The devices controller is programmed before the init makes or opens a node. */
	if (librune_cgroup_apply_resources(c->cgroup, cfg->resources, err) < 0
	    || librune_cgroup_apply_devices(c->cgroup, cfg->resources, cfg->devices, cfg->n_devices, err) < 0)
		return -1;
	return 0;
}

static void record_enclave(struct rune_container *c, const struct sync_msg *m)
{
	char mr[65] = "";
	int debug = 0, end = 0;
	c->pal_version = m->value;
	if (sscanf(m->text, "%64s %d %n", mr, &debug, &end) >= 2 && strcmp(mr, "-") != 0) {
		free(c->measurement);
		c->measurement = xstrdup(mr);
		c->enclave_debug = debug != 0;
	}
	/* What the runtime says it runs: kept only if it is a JSON object. */
	yajl_val v = NULL;
	cleanup_error rune_error_t ignored = NULL;
	if (end > 0 && m->text[end] == '{' && rune_json_parse(m->text + end, "enclave info", &v, &ignored) == 0) {
		if (YAJL_IS_OBJECT(v)) {
			free(c->enclave_info);
			c->enclave_info = xstrdup(m->text + end);
		}
		yajl_tree_free(v);
	}
}

/* prestart and createRuntime, in rune, when the init asks; the outcome goes back to it. */
static int run_runtime_hooks(struct rune_container *c, pid_t pid, int sync_fd, rune_error_t *err)
{
	cleanup_free char *state = librune_container_hook_state(c->id, c->bundle, pid, "creating", c->config);
	rune_error_t herr = NULL;
	if (librune_hooks_run(c->config->hooks, HOOK_PRESTART, state, &herr) < 0
	    || librune_hooks_run(c->config->hooks, HOOK_CREATE_RUNTIME, state, &herr) < 0) {
		librune_sync_send(sync_fd, SYNC_ERROR, 0, herr->msg, NULL); /* the init dies with us anyway */
		return rune_error_move(err, &herr);
	}
	return librune_sync_send(sync_fd, SYNC_HOOKS_DONE, 0, NULL, err);
}

/* rune's side while the init sets itself up, until it reports READY. */
static int drive_init(struct rune_container *c, const struct create_opts *o, const struct init_args *a,
                      bool born_in_cgroup, pid_t pid, int sync_fd, rune_error_t *err)
{
	const struct sync_peer init = { .name = "container init", .pid = pid, .cgroup = c->cgroup };
	struct sync_msg m;

	if (write_id_maps(c->config, pid, err) < 0
	    || place_in_cgroup(c, o->systemd_cgroup, a->cgroup_entry, born_in_cgroup, pid, err) < 0
	    || librune_sync_send(sync_fd, SYNC_GO, pid, NULL, err) < 0)
		return -1;
	for (;;) {
		if (librune_sync_recv(sync_fd, &init, &m, err) < 0)
			return -1;
		switch (m.type) {
		case SYNC_READY:
			log_debug("create %s: init %d is ready, waiting for start", c->id, (int) pid);
			return 0;
		case SYNC_ERROR:
			return rune_error(err, 0, "%s", m.text);
		case SYNC_ENCLAVE:
			record_enclave(c, &m);
			break;
		case SYNC_SECCOMP: {
			cleanup_close int listener = m.fd;
			cleanup_free char *state =
			    librune_container_hook_state(c->id, c->bundle, pid, "creating", c->config);
			if (listener < 0)
				return rune_error(err, EPROTO, "the container init sent no seccomp listener fd");
			if (librune_seccomp_forward_listener(c->config->seccomp_filter, listener, pid, state, err) < 0)
				return -1;
			break;
		}
		case SYNC_RUNTIME_HOOKS:
			if (run_runtime_hooks(c, pid, sync_fd, err) < 0)
				return -1;
			break;
		default:
			if (m.fd >= 0)
				close(m.fd);
			return rune_error(err, EPROTO, "unexpected message %d from the container init", m.type);
		}
	}
}

/* SIGKILL the init (still our child) and reap it. A frozen cgroup holds
 * even SIGKILL back (cgroup v1), so it is thawed first. */
static void kill_init(struct rune_container *c)
{
	kill(c->pid, SIGKILL);
	if (c->cgroup && librune_cgroup_is_frozen(c->cgroup))
		librune_cgroup_freeze(c->cgroup, false, NULL);
	while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
		;
	c->pid = 0; /* reaped: the number may be someone else's now */
}

/* The channels, the init, and rune's side of its set-up. */
static int start_init(struct create_opts *o, struct rune_container *c, int dmz_fd, rune_error_t *err)
{
	cleanup_close int listen_fd = -1, status_fd = -1, fifo_fd = -1, console_fd = -1, console_rune = -1;
	cleanup_free int *mount_fds = NULL;
	int sv[2] = { -1, -1 };
	pid_t pid = -1;
	bool born_in_cgroup = false;
	cleanup_cgroup_entry struct cgroup_entry entry = { .v2_fd = -1 };

	if (librune_cgroup_entry_open(c->cgroup, NULL, &entry, err) < 0 || make_exec_fifo(c, &fifo_fd, err) < 0
	    || make_console_channel(o, c->config, &console_fd, &console_rune, err) < 0
	    || make_enclave_channels(c, &listen_fd, &status_fd, err) < 0
	    || librune_mount_sources_prepare(c->config, &mount_fds, err) < 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		librune_mount_sources_close(mount_fds, c->config->n_mounts);
		return rune_error(err, errno, "socketpair");
	}
	struct init_args a = { .o = o,
		               .config = c->config,
		               .rootfs = c->rootfs,
		               .cgroup = c->cgroup,
		               .cgroup_entry = &entry,
		               .cgroup_ns_fd = -1,
		               .mount_fds = mount_fds,
		               .sync_fd = sv[1],
		               .console_fd = console_fd,
		               .fifo_fd = fifo_fd,
		               .lock_fd = c->lock_fd,
		               .exec_listen_fd = listen_fd,
		               .status_fd = status_fd,
		               .dmz_fd = dmz_fd };
	int r = clone_init(c, &a, &born_in_cgroup, &pid, err);
	librune_mount_sources_close(mount_fds, c->config->n_mounts); /* the init has its copies */
	close(sv[1]);
	if (r == 0) {
		c->pid = pid;
		c->start_time = librune_proc_start_time(pid, NULL);
		r = drive_init(c, o, &a, born_in_cgroup, pid, sv[0], err);
	}
	close(sv[0]);
	if (r == 0 && console_rune >= 0)
		r = librune_console_recv_master(console_rune, &o->console_master_out, err);
	if (r < 0 && pid > 0)
		kill_init(c);
	return r;
}

/* How the init will exec its workload (sealed_exe.h): through rune-exec
 * (*dmz_fd), or directly because rune runs sealed — re-executed so here,
 * before anything exists, when rune-exec cannot serve the container or the
 * kernel refuses it an executable memfd. */
static int prepare_exec_step(const struct create_opts *o, const struct rune_config *cfg, int *dmz_fd, rune_error_t *err)
{
	if (librune_sealed_exe_running())
		return 0;
	if (!librune_sealed_exe_needed(cfg, &cfg->process)) {
		if (librune_dmz_open(dmz_fd, err) == 0)
			return 0;
		log_debug("%s: rune re-executes sealed instead", (*err)->msg);
		rune_error_release(err);
	}
	if (o->argv == NULL)
		return rune_error(err, EINVAL,
		                  "this container needs rune to run sealed, and it cannot re-execute itself");
	if (o->argv_sigmask)
		sigprocmask(SIG_SETMASK, o->argv_sigmask, NULL);
	return librune_sealed_exe_ensure(o->argv, err);
}

/* Undo a create that failed half-way: nothing may claim the container exists. */
static void undo_create(struct create_opts *o, struct rune_container *c)
{
	if (c->pid > 0)
		kill_init(c);
	if (c->cgroup)
		librune_cgroup_undo_create(c->cgroup);
	if (c->lock_fd >= 0)
		librune_container_remove_state(c->root, c->id, NULL);
	if (o->console_master_out >= 0) {
		close(o->console_master_out);
		o->console_master_out = -1;
	}
}

int librune_container_create(struct create_opts *o, struct rune_container **out, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	/* Relative to the caller's cwd, which the chdir below leaves. */
	cleanup_free char *pid_file = o->pid_file ? rune_absolute_path(o->pid_file) : NULL;
	cleanup_free char *config_text = NULL;
	size_t config_len = 0;
	cleanup_close int dmz_fd = -1;

	o->console_master_out = -1;
	if (librune_container_new(o->root, o->id, &c, err) < 0)
		return -1;
	/* Nothing exists yet: a refusal here leaves nothing behind. */
	if (load_bundle(o, c, &config_text, &config_len, err) < 0 || check_config(o, c->config, err) < 0
	    || prepare_exec_step(o, c->config, &dmz_fd, err) < 0 || librune_enclave_add_host_devices(c->config, err) < 0
	    || librune_seccomp_prepare(c->config->seccomp_filter, o->root, err) < 0)
		return -1;
	pass_listen_fds(o, c->config);
	reserve_preserved_fds(o->preserve_fds);
	if (make_state_dir(o, c, err) < 0)
		return -1;
	/* From here on a failure undoes what was made. Relative bind-mount
	 * sources are relative to the bundle. */
	if (chdir(c->bundle) < 0) {
		rune_error(err, errno, "chdir %s", c->bundle);
		goto fail;
	}
	if (copy_config(c, config_text, config_len, err) < 0 || make_cgroup(o, c, err) < 0
	    || start_init(o, c, dmz_fd, err) < 0 || librune_container_save(c, err) < 0)
		goto fail;
	if (pid_file && librune_write_pid_file(pid_file, c->pid, err) < 0)
		goto fail;
	*out = take_ptr(c);
	return 0;
fail:
	undo_create(o, c);
	return -1;
}
