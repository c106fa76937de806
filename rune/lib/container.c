#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "dmz.h"
#include "enclave.h"
#include "fs.h"
#include "hooks.h"
#include "json.h"
#include "loader.h"
#include "log.h"
#include "pidfd.h"
#include "sync.h"
#include "util.h"

#define STATE_FILE "state.json"
#define STATE_MAX  (1 << 20)

int librune_container_validate_id(const char *id, rune_error_t *err)
{
	if (id == NULL || id[0] == '\0')
		return rune_error(err, EINVAL, "container id cannot be empty");
	if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0 || strlen(id) > 1024)
		return rune_error(err, EINVAL, "invalid container id format: %s", id);
	for (const char *p = id; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'
		      || ch == '+' || ch == '-' || ch == '.'))
			return rune_error(err, EINVAL, "invalid container id format: %s", id);
	}
	return 0;
}

unsigned long long librune_proc_start_time(pid_t pid, char *state)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields restart after the last ')'. */
	char *p = strrchr(buf, ')');
	if (p == NULL || p[1] == '\0')
		return 0;
	p += 2;
	if (state)
		*state = *p;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

int librune_write_pid_file(const char *path, pid_t pid, rune_error_t *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", (int) pid);
	if (rune_write_file_atomic(path, buf, n, 0644, err) < 0)
		return rune_error_wrap(err, "--pid-file");
	return 0;
}

const char *librune_status_name(enum rune_status s)
{
	static const char *names[] = { "creating", "created", "running", "paused", "stopped" };
	return names[s];
}

enum rune_status librune_container_status(const struct rune_container *c)
{
	char st = 0;
	if (c->pid <= 0)
		return STATUS_STOPPED;
	unsigned long long t = librune_proc_start_time(c->pid, &st);
	if (t == 0 || t != c->start_time || st == 'Z' || st == 'X')
		return STATUS_STOPPED;
	/* A frozen cgroup wins over a created one, as runc reports it. */
	if (c->cgroup && librune_cgroup_is_frozen(c->cgroup))
		return STATUS_PAUSED;
	cleanup_free char *fifo = xasprintf("%s/exec.fifo", c->dir);
	if (access(fifo, F_OK) == 0)
		return STATUS_CREATED;
	return STATUS_RUNNING;
}

/* The enclave runtime's own account of what it runs (pal_get_info). */
static void gen_enclave_info(yajl_gen g, const struct rune_container *c)
{
	yajl_val v = NULL;
	cleanup_error rune_error_t err = NULL;
	if (c->enclave_info == NULL || rune_json_parse(c->enclave_info, "enclave info", &v, &err) < 0)
		return;
	rune_json_gen_key(g, "info");
	rune_json_gen_value(g, v);
	yajl_tree_free(v);
}

static int lock_dir(const char *dir, int *fd_out, rune_error_t *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rune_error(err, errno, "open %s", dir);
	/* Serialise every command on one id: create, start, kill, delete... */
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return rune_error(err, e, "lock %s", dir);
		}
	}
	*fd_out = fd;
	return 0;
}

int librune_container_new(const char *root, const char *id, struct rune_container **out, rune_error_t *err)
{
	if (librune_container_validate_id(id, err) < 0)
		return -1;
	struct rune_container *c = xcalloc(1, sizeof(*c));
	c->lock_fd = -1;
	c->root = xstrdup(root);
	c->id = xstrdup(id);
	c->dir = xasprintf("%s/%s", root, id);
	*out = c;
	return 0;
}

int librune_container_load(const char *root, const char *id, struct rune_container **out, rune_error_t *err)
{
	cleanup_container struct rune_container *c = NULL;
	yajl_val tree = NULL;

	if (librune_container_new(root, id, &c, err) < 0)
		return -1;
	cleanup_free char *state = xasprintf("%s/" STATE_FILE, c->dir);
	if (access(state, F_OK) < 0)
		return rune_error(err, 0, "container does not exist");
	if (lock_dir(c->dir, &c->lock_fd, err) < 0)
		return -1;
	/* Deleted while we waited for the lock. */
	if (access(state, F_OK) < 0)
		return rune_error(err, 0, "container does not exist");
	if (rune_json_parse_file(state, STATE_MAX, &tree, err) < 0)
		return -1;
	int64_t pid = 0;
	uint64_t st = 0;
	int r = rune_json_read_int64(rune_json_get(tree, "pid"), "pid", &pid, err);
	if (r == 0)
		r = rune_json_read_uint64(rune_json_get(tree, "startTime"), "startTime", &st, err);
	if (r == 0)
		r = rune_json_read_string(rune_json_get(tree, "bundle"), "bundle", &c->bundle, err);
	if (r == 0)
		r = rune_json_read_string(rune_json_get(tree, "rootfs"), "rootfs", &c->rootfs, err);
	if (r == 0)
		r = rune_json_read_string(rune_json_get(tree, "created"), "created", &c->created, err);
	if (r == 0)
		r = librune_cgroup_from_json(rune_json_get(tree, "cgroup"), &c->cgroup, err);
	yajl_val enc = rune_json_get(tree, "enclave");
	if (r == 0 && enc) {
		int64_t v = 0;
		r = rune_json_read_int64(rune_json_get(enc, "palVersion"), "enclave.palVersion", &v, err);
		c->pal_version = v;
		if (r == 0)
			r = rune_json_read_string(rune_json_get(enc, "measurement"), "enclave.measurement",
			                          &c->measurement, err);
		if (r == 0)
			r = rune_json_read_bool(rune_json_get(enc, "debug"), "enclave.debug", &c->enclave_debug, err);
		yajl_val info = rune_json_get(enc, "info");
		if (r == 0 && YAJL_IS_OBJECT(info)) {
			yajl_gen g = rune_json_gen_new(false, NULL);
			const unsigned char *b;
			size_t n;
			rune_json_gen_value(g, info);
			yajl_gen_get_buf(g, &b, &n);
			c->enclave_info = xasprintf("%.*s", (int) n, (const char *) b);
			yajl_gen_free(g);
		}
	}
	yajl_tree_free(tree);
	if (r < 0)
		return rune_error_wrap(err, "%s", state);
	c->pid = pid;
	c->start_time = st;
	cleanup_free char *cfg = xasprintf("%s/config.json", c->dir);
	if (librune_config_load(cfg, &c->config, err) < 0)
		return -1;
	*out = take_ptr(c);
	return 0;
}

void librune_container_unlock(struct rune_container *c)
{
	if (c->lock_fd >= 0)
		flock(c->lock_fd, LOCK_UN);
}

int librune_container_save(struct rune_container *c, rune_error_t *err)
{
	yajl_gen g = rune_json_gen_new(false, NULL);
	const unsigned char *buf;
	size_t len;

	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "id", c->id);
	rune_json_gen_kv_int(g, "pid", c->pid);
	rune_json_gen_key(g, "startTime");
	{
		char n[32];
		snprintf(n, sizeof(n), "%llu", c->start_time);
		yajl_gen_number(g, n, strlen(n));
	}
	rune_json_gen_kv_str(g, "bundle", c->bundle);
	rune_json_gen_kv_str(g, "rootfs", c->rootfs);
	rune_json_gen_kv_str(g, "created", c->created);
	rune_json_gen_key(g, "cgroup");
	librune_cgroup_to_json(c->cgroup, g);
	if (c->pal_version) {
		rune_json_gen_key(g, "enclave");
		yajl_gen_map_open(g);
		rune_json_gen_kv_int(g, "palVersion", c->pal_version);
		if (c->measurement) {
			rune_json_gen_kv_str(g, "measurement", c->measurement);
			rune_json_gen_kv_bool(g, "debug", c->enclave_debug);
		}
		gen_enclave_info(g, c);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	cleanup_free char *path = xasprintf("%s/" STATE_FILE, c->dir);
	int r = rune_write_file_replace(path, buf, len, 0600, err);
	yajl_gen_free(g);
	return r;
}

void librune_container_free(struct rune_container *c)
{
	if (c == NULL)
		return;
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->root);
	free(c->id);
	free(c->dir);
	free(c->bundle);
	free(c->rootfs);
	free(c->created);
	free(c->measurement);
	free(c->enclave_info);
	librune_cgroup_free(c->cgroup);
	librune_config_free(c->config);
	free(c);
}

void librune_container_gen_state(const struct rune_container *c, enum rune_status s, const char *owner, yajl_gen g)
{
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "ociVersion",
	                     c->config && c->config->oci_version ? c->config->oci_version : RUNE_OCI_VERSION);
	rune_json_gen_kv_str(g, "id", c->id);
	rune_json_gen_kv_int(g, "pid", s == STATUS_STOPPED ? 0 : c->pid);
	rune_json_gen_kv_str(g, "status", librune_status_name(s));
	rune_json_gen_kv_str(g, "bundle", c->bundle);
	rune_json_gen_kv_str(g, "rootfs", c->rootfs);
	rune_json_gen_kv_str(g, "created", c->created);
	if (c->config && c->config->annotations && c->config->annotations->u.object.len) {
		rune_json_gen_key(g, "annotations");
		rune_json_gen_value(g, c->config->annotations);
	}
	rune_json_gen_kv_str(g, "owner", owner);
	const struct rune_enclave *e = c->config ? c->config->enclave : NULL;
	if (e) {
		/* Not in runc's state; clients ignore what they do not know. */
		rune_json_gen_key(g, "enclave");
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "type", e->type);
		rune_json_gen_kv_str(g, "runtime", e->path);
		if (c->pal_version)
			rune_json_gen_kv_int(g, "palVersion", c->pal_version);
		rune_json_gen_kv_bool(g, "simulation", e->simulation);
		if (e->simulation)
			rune_json_gen_kv_str(g, "warning", ENCLAVE_SIMULATION_WARNING);
		if (c->measurement) {
			rune_json_gen_kv_str(g, "measurement", c->measurement);
			rune_json_gen_kv_bool(g, "debug", c->enclave_debug);
		}
		gen_enclave_info(g, c);
		int code = s == STATUS_STOPPED ? librune_container_enclave_exit_code(c) : -1;
		if (code >= 0)
			rune_json_gen_kv_int(g, "exitStatus", code);
		yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
}

int librune_container_enclave_exit_code(const struct rune_container *c)
{
	char buf[32];
	cleanup_free char *path = xasprintf("%s/" ENCLAVE_STATUS, c->dir);
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf || (*end != '\n' && *end != '\0'))
		return -1;
	return pal_runtime_exit_code((int) v);
}

char *librune_container_hook_state(const char *id, const char *bundle, pid_t pid, const char *status,
                                   const struct rune_config *config)
{
	yajl_gen g = rune_json_gen_new(false, NULL);
	const unsigned char *buf;
	size_t len;
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "ociVersion", config && config->oci_version ? config->oci_version : RUNE_OCI_VERSION);
	rune_json_gen_kv_str(g, "id", id);
	rune_json_gen_kv_str(g, "status", status);
	if (pid > 0)
		rune_json_gen_kv_int(g, "pid", pid);
	rune_json_gen_kv_str(g, "bundle", bundle);
	if (config && config->annotations) {
		rune_json_gen_key(g, "annotations");
		rune_json_gen_value(g, config->annotations);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	char *s = xasprintf("%.*s", (int) len, buf);
	yajl_gen_free(g);
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

int librune_container_list_ids(const char *root, char ***ids, rune_error_t *err)
{
	cleanup_dir DIR *d = opendir(root);
	struct dirent *e;
	size_t n = 0;
	*ids = xcalloc(1, sizeof(char *));
	if (d == NULL)
		return errno == ENOENT ? 0 : rune_error(err, errno, "open %s", root);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		cleanup_free char *state = xasprintf("%s/%s/" STATE_FILE, root, e->d_name);
		if (access(state, F_OK) < 0)
			continue;
		rune_strv_append(ids, e->d_name);
		n++;
	}
	qsort(*ids, n, sizeof(char *), cmp_str);
	return 0;
}

int librune_container_kill(struct rune_container *c, int sig, bool all, rune_error_t *err)
{
	enum rune_status s = librune_container_status(c);
	if (s == STATUS_STOPPED && !all)
		return rune_error(err, 0, "container not running");
	if (!all) {
		if (kill(c->pid, sig) < 0)
			return rune_error(err, errno, "kill container init %d", (int) c->pid);
		return 0;
	}
	/* Freeze first so nothing forks between listing and signalling. A
	 * stopped container's cgroup may still hold processes (a shared pid
	 * namespace); they are signalled too, as runc does. */
	bool froze = s == STATUS_RUNNING && librune_cgroup_freeze(c->cgroup, true, NULL) == 0;
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	rune_error_t e = NULL;
	int r = librune_cgroup_pids(c->cgroup, &pids, &n, &e);
	if (r < 0 && s == STATUS_STOPPED && e->status == ENOENT)
		r = 0; /* nothing left, not even the cgroup */
	else if (r < 0)
		rune_error_move(err, &e);
	rune_error_release(&e);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			r = rune_error(err, errno, "kill %d", (int) pids[i]);
	if (froze || (s == STATUS_PAUSED && sig == SIGKILL))
		librune_cgroup_freeze(c->cgroup, false, NULL);
	return r;
}

/* Wait for pid (not our child) to go away, via a pidfd; up to timeout_ms. */
static bool wait_gone(pid_t pid, unsigned long long start_time, int timeout_ms)
{
	cleanup_close int pfd = rune_pidfd_open(pid);
	if (pfd >= 0 && rune_pidfd_wait(pfd, timeout_ms))
		return true;
	char st = 0;
	unsigned long long t = librune_proc_start_time(pid, &st);
	return t != start_time || st == 'Z' || st == 'X';
}

int librune_container_delete(struct rune_container *c, bool force, rune_error_t *err)
{
	enum rune_status s = librune_container_status(c);
	if (s != STATUS_STOPPED) {
		if (s != STATUS_CREATED && !force)
			return rune_error(err, 0, "cannot delete container %s that is not stopped: %s", c->id,
			                  librune_status_name(s));
		if (librune_container_kill(c, SIGKILL, true, NULL) < 0)
			kill(c->pid, SIGKILL);
		if (!wait_gone(c->pid, c->start_time, 10000))
			return rune_error(err, ETIMEDOUT, "container %s init %d did not exit after SIGKILL", c->id,
			                  (int) c->pid);
	}
	/* With a shared pid namespace, processes may outlive the init: sweep the cgroup. */
	cleanup_free pid_t *left = NULL;
	size_t nleft = 0;
	if (c->cgroup && c->cgroup->n && librune_cgroup_pids(c->cgroup, &left, &nleft, NULL) == 0)
		for (size_t i = 0; i < nleft; i++)
			kill(left[i], SIGKILL);
	if (librune_cgroup_destroy(c->cgroup, err) < 0)
		return -1;
	cleanup_free char *state = librune_container_hook_state(c->id, c->bundle, 0, "stopped", c->config);
	rune_error_t herr = NULL;
	if (c->config && librune_hooks_run(c->config->hooks, HOOK_POSTSTOP, state, &herr) < 0) {
		log_warning("%s", herr->msg);
		rune_error_release(&herr);
	}
	if (librune_container_remove_state(c->root, c->id, err) < 0)
		return rune_error_wrap(err, "remove the state of %s", c->id);
	return 0;
}

int librune_container_remove_state(const char *root, const char *id, rune_error_t *err)
{
	cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return rune_error(err, errno, "open %s", root);
	/* state.json goes first, so a half-removed directory never looks like a container. */
	cleanup_free char *statefile = xasprintf("%s/" STATE_FILE, id);
	unlinkat(rootfd, statefile, 0);
	return rune_remove_tree_at(rootfd, id, err);
}

#define CGROUP_RECORD "cgroup.creating"
/* How long delete --force waits for a create still running. */
#define LEFTOVER_WAIT_MS 60000

int librune_container_record_cgroup(const struct rune_container *c, rune_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/" CGROUP_RECORD, c->dir);
	yajl_gen g = rune_json_gen_new(false, NULL);
	const unsigned char *buf;
	size_t len;
	librune_cgroup_to_json_filtered(c->cgroup, true, g);
	yajl_gen_get_buf(g, &buf, &len);
	/* No fsync: the state root is a tmpfs, and a kill -9 loses no write. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r = fd < 0 || rune_write_all(fd, buf, len) < 0 ? rune_error(err, errno, "write %s", path) : 0;
	if (fd >= 0)
		close(fd);
	yajl_gen_free(g);
	return r;
}

int librune_container_remove_leftover(const char *root, const char *id, rune_error_t *err)
{
	cleanup_free char *dir = xasprintf("%s/%s", root, id);
	cleanup_free char *record = xasprintf("%s/" CGROUP_RECORD, dir);
	cleanup_free char *state = xasprintf("%s/" STATE_FILE, dir);
	cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* A create still running (its runner killed, say, while it goes on)
	 * holds the lock: wait for it to end, one way or the other. */
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 50) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return rune_error(err, errno, "lock %s", dir);
		if (waited >= LEFTOVER_WAIT_MS)
			return rune_error(err, EBUSY, "container %s is still being created after %d s", id,
			                  LEFTOVER_WAIT_MS / 1000);
		usleep(50 * 1000);
	}
	if (access(state, F_OK) == 0)
		return 1; /* it completed: a container now, for the caller to delete */
	yajl_val tree = NULL;
	struct rune_cgroup *cg = NULL;
	if (rune_json_parse_file(record, 1 << 20, &tree, NULL) == 0 && librune_cgroup_from_json(tree, &cg, NULL) == 0) {
		/* An init the killed create left waiting, in its cgroup. */
		cleanup_free pid_t *pids = NULL;
		size_t n = 0;
		if (librune_cgroup_is_frozen(cg))
			librune_cgroup_freeze(cg, false, NULL);
		if (librune_cgroup_pids(cg, &pids, &n, NULL) == 0)
			for (size_t i = 0; i < n; i++)
				kill(pids[i], SIGKILL);
		librune_cgroup_destroy(cg, NULL);
		log_debug("delete %s: removed the cgroup an interrupted create made", id);
	}
	librune_cgroup_free(cg);
	yajl_tree_free(tree);
	librune_container_remove_state(root, id, NULL);
	return 0;
}

int librune_container_start(struct rune_container *c, rune_error_t *err)
{
	enum rune_status s = librune_container_status(c);
	if (s == STATUS_STOPPED)
		return rune_error(err, 0, "cannot start a container that has stopped");
	if (s == STATUS_RUNNING)
		return rune_error(err, 0, "cannot start an already running container");
	if (s != STATUS_CREATED)
		return rune_error(err, 0, "cannot start a container in the %s state", librune_status_name(s));
	cleanup_free char *fifo = xasprintf("%s/exec.fifo", c->dir);
	cleanup_close int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return rune_error(err, errno, "open %s", fifo);
	/* The init writes one byte once our open lets its own open return; then
	 * the end of the stream once the workload runs, or a dmz_status. */
	const struct sync_peer init = { .name = "container init", .pid = c->pid, .cgroup = c->cgroup };
	char buf[1 + sizeof(struct dmz_status)];
	size_t got = 0;
	while (got < sizeof(buf)) {
		if (librune_sync_wait_peer(fd, &init, err) < 0)
			return -1;
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		if (got == 0) {
			unlink(fifo);
			log_debug("start %s: init %d released", c->id, (int) c->pid);
		}
		got += n;
	}
	if (got == 0)
		return rune_error(err, 0, "cannot start a container that has stopped");
	if (got == sizeof(buf)) {
		struct dmz_status st;
		memcpy(&st, buf + 1, sizeof(st));
		return rune_error(err, st.type == DMZ_EXEC_FAILED ? st.value : EPROTO, "exec process.args[0] \"%s\"",
		                  c->config->process.args[0]);
	}
	cleanup_free char *state = librune_container_hook_state(c->id, c->bundle, c->pid, "running", c->config);
	return librune_hooks_run(c->config->hooks, HOOK_POSTSTART, state, err);
}
