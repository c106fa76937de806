#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "mountinfo.h"
#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

enum cgroup_mode librune_cgroup_host_mode(void)
{
	struct statfs s;
	if (statfs(CGROUP_ROOT, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
		return CGROUP_V2;
	if (statfs(CGROUP_ROOT "/unified", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC)
		return CGROUP_HYBRID;
	return CGROUP_V1;
}

static bool has_controller(const char *list, const char *want)
{
	size_t l = strlen(want);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t) (c - p) : strlen(p);
		if (n == l && strncmp(p, want, l) == 0)
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

const struct cgroup_hier *librune_cgroup_find(const struct rune_cgroup *cg, const char *controller)
{
	const struct cgroup_hier *v2 = NULL;
	for (size_t i = 0; cg && i < cg->n; i++) {
		if (cg->h[i].v2)
			v2 = &cg->h[i];
		else if (has_controller(cg->h[i].controllers, controller))
			return &cg->h[i];
	}
	/* On a pure v2 host the unified hierarchy holds every controller; on a
	 * hybrid one (v1 hierarchies present) it holds none. */
	for (size_t i = 0; cg && i < cg->n; i++)
		if (!cg->h[i].v2)
			return NULL;
	return v2;
}

/* Keep only the controllers from a v1 mount's super options. */
static char *v1_controllers(const char *superopts)
{
	static const char *known[] = { "cpuset", "cpu",     "cpuacct",  "memory",     "devices", "freezer", "blkio",
		                       "pids",   "net_cls", "net_prio", "perf_event", "hugetlb", "rdma",    "misc" };
	char *out = xstrdup("");
	cleanup_free char *copy = xstrdup(superopts);
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		bool keep = strncmp(t, "name=", 5) == 0;
		for (size_t i = 0; !keep && i < ARRAY_SIZE(known); i++)
			keep = strcmp(t, known[i]) == 0;
		if (keep) {
			char *n = xasprintf("%s%s%s", out, *out ? "," : "", t);
			free(out);
			out = n;
		}
	}
	return out;
}

static int add_hierarchy(const struct rune_mount_entry *e, void *data)
{
	struct rune_cgroup *cg = data;
	bool v2 = strcmp(e->fstype, "cgroup2") == 0;
	if ((!v2 && strcmp(e->fstype, "cgroup") != 0) || strcmp(e->root, "/") != 0
	    || !rune_path_within(e->mountpoint, CGROUP_ROOT))
		return 0;
	cg->h = xrealloc(cg->h, (cg->n + 1) * sizeof(*cg->h));
	struct cgroup_hier *h = &cg->h[cg->n++];
	memset(h, 0, sizeof(*h));
	h->mountpoint = xstrdup(e->mountpoint);
	h->v2 = v2;
	h->controllers = v2 ? xstrdup("") : v1_controllers(e->superopts);
	return 0;
}

static int discover(struct rune_cgroup *cg, rune_error_t *err)
{
	if (rune_mountinfo_each(add_hierarchy, cg, err) < 0)
		return -1;
	if (cg->n == 0)
		return rune_error(err, ENOENT, "no cgroup hierarchy is mounted under %s", CGROUP_ROOT);
	return 0;
}

/* The cgroup of pid (0: ourselves) in a hierarchy, from /proc/<pid>/cgroup. */
static char *cgroup_of(pid_t pid, const struct cgroup_hier *h)
{
	char file[64];
	if (pid > 0)
		snprintf(file, sizeof(file), "/proc/%d/cgroup", (int) pid);
	else
		snprintf(file, sizeof(file), "/proc/self/cgroup");
	cleanup_file FILE *f = fopen(file, "re");
	cleanup_free char *line = NULL;
	size_t cap = 0;
	if (f == NULL)
		return xstrdup("/");
	while (getline(&line, &cap, f) > 0) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c2 = '\0';
		char *path = c2 + 1;
		path[strcspn(path, "\n")] = '\0';
		bool match = h->v2 ? c1[1] == '\0' : strcmp(c1 + 1, h->controllers) == 0;
		if (match)
			return xstrdup(path);
	}
	return xstrdup("/");
}

int librune_cg_write(const char *dir, const char *file, const char *value, rune_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return rune_error(err, errno, "open %s", path);
	if (write(fd, value, strlen(value)) < 0)
		return rune_error(err, errno, "write '%s' to %s", value, path);
	return 0;
}

char *librune_cg_read(const char *dir, const char *file)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	char *buf = NULL;
	if (rune_read_file(path, 1 << 20, &buf, NULL, NULL) < 0)
		return NULL;
	return buf;
}

/* A new v1 cpuset cgroup has empty cpus/mems; copy the parent's so tasks can join. */
static int cpuset_inherit(const char *mountpoint, const char *dir, rune_error_t *err)
{
	static const char *files[] = { "cpuset.cpus", "cpuset.mems" };
	if (strlen(dir) <= strlen(mountpoint))
		return 0;
	cleanup_free char *parent = xstrdup(dir);
	*strrchr(parent, '/') = '\0';
	if (cpuset_inherit(mountpoint, parent, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		cleanup_free char *cur = librune_cg_read(dir, files[i]);
		if (cur && cur[0] != '\0' && cur[0] != '\n')
			continue;
		cleanup_free char *p = librune_cg_read(parent, files[i]);
		if (p == NULL)
			return rune_error(err, errno, "read %s/%s", parent, files[i]);
		p[strcspn(p, "\n")] = '\0';
		if (librune_cg_write(dir, files[i], p, err) < 0)
			return -1;
	}
	return 0;
}

int librune_cgroup_plan(const char *cgroups_path, const char *id, struct rune_cgroup **out, rune_error_t *err)
{
	struct rune_cgroup *cg = xcalloc(1, sizeof(*cg));
	cleanup_free char *def = xasprintf("/%s", id);
	const char *path = cgroups_path && cgroups_path[0] ? cgroups_path : def;

	if (strstr(path, "..") != NULL || strchr(path, ':') != NULL) {
		librune_cgroup_free(cg);
		return rune_error(err, EINVAL, "linux.cgroupsPath: '%s' is not a cgroupfs path (no '..' or ':')", path);
	}
	if (discover(cg, err) < 0) {
		librune_cgroup_free(cg);
		return -1;
	}
	for (size_t i = 0; i < cg->n; i++) {
		struct cgroup_hier *h = &cg->h[i];
		cleanup_free char *base = path[0] == '/' ? xstrdup("") : cgroup_of(0, h);
		h->dir = xasprintf("%s%s%s%s", h->mountpoint, base, path[0] == '/' ? "" : "/", path);
		h->created = access(h->dir, F_OK) != 0;
	}
	*out = cg;
	return 0;
}

int librune_cgroup_make(struct rune_cgroup *cg, rune_error_t *err)
{
	for (size_t i = 0; i < cg->n; i++) {
		struct cgroup_hier *h = &cg->h[i];
		if (rune_mkdir_p(h->dir, 0755, err) < 0
		    || (has_controller(h->controllers, "cpuset") && cpuset_inherit(h->mountpoint, h->dir, err) < 0)) {
			librune_cgroup_undo_create(cg);
			return rune_error_wrap(err, "create cgroup");
		}
	}
	return 0;
}

int librune_cgroup_hierarchies(struct rune_cgroup **out, rune_error_t *err)
{
	struct rune_cgroup *cg = xcalloc(1, sizeof(*cg));
	if (discover(cg, err) < 0) {
		librune_cgroup_free(cg);
		return -1;
	}
	*out = cg;
	return 0;
}

int librune_cgroup_adopt(pid_t pid, struct rune_cgroup **out, rune_error_t *err)
{
	struct rune_cgroup *cg = xcalloc(1, sizeof(*cg));
	if (discover(cg, err) < 0) {
		librune_cgroup_free(cg);
		return -1;
	}
	for (size_t i = 0; i < cg->n; i++) {
		cleanup_free char *path = cgroup_of(pid, &cg->h[i]);
		cg->h[i].dir = xasprintf("%s%s", cg->h[i].mountpoint, strcmp(path, "/") ? path : "");
	}
	*out = cg;
	return 0;
}

int librune_cgroup_enter(const struct rune_cgroup *cg, pid_t pid, rune_error_t *err)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int) pid);
	for (size_t i = 0; i < cg->n; i++)
		if (librune_cg_write(cg->h[i].dir, "cgroup.procs", buf, err) < 0)
			return rune_error_wrap(err, "join cgroup");
	return 0;
}

/* A sub-cgroup path, cleaned: "" for the cgroup itself; NULL if it leaves it. */
static char *clean_sub_path(const char *path)
{
	cleanup_free char *copy = xstrdup(path);
	char *out = xstrdup(""), *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			char *slash = strrchr(out, '/');
			if (*out == '\0') {
				free(out);
				return NULL;
			}
			*(slash ? slash : out) = '\0';
			continue;
		}
		char *n = xasprintf("%s/%s", out, c);
		free(out);
		out = n;
	}
	return out;
}

/* Each hierarchy's directory for specs ("path", or
 * "controller[,controller]:path"), into dirs (cg->n entries, owned). */
static int sub_dirs(const struct rune_cgroup *cg, char *const *specs, char **dirs, rune_error_t *err)
{
	cleanup_free const char **subs = xcalloc(cg->n + 1, sizeof(char *)); /* borrowed from owned below */
	cleanup_strv char **owned = xcalloc(1, sizeof(char *));
	for (char *const *s = specs; s && *s; s++) {
		const char *colon = strchr(*s, ':');
		const char *path = colon ? colon + 1 : *s;
		char *clean = clean_sub_path(path);
		if (clean == NULL)
			return rune_error(err, EINVAL, "exec --cgroup %s: %s is not a sub cgroup path", *s, path);
		rune_strv_append(&owned, clean);
		free(clean);
		const char *sub = owned[rune_strv_len(owned) - 1];
		if (colon == NULL) {
			for (size_t i = 0; i < cg->n; i++)
				subs[i] = sub;
			continue;
		}
		cleanup_free char *ctrls = strndup(*s, colon - *s);
		char *save = NULL;
		for (char *c = strtok_r(ctrls, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
			bool found = false;
			for (size_t i = 0; i < cg->n; i++)
				if (!cg->h[i].v2 && has_controller(cg->h[i].controllers, c)) {
					subs[i] = sub;
					found = true;
				}
			if (!found)
				return rune_error(err, EINVAL, "exec --cgroup %s: unknown controller %s", *s, c);
		}
	}
	for (size_t i = 0; i < cg->n; i++)
		dirs[i] = xasprintf("%s%s", cg->h[i].dir, subs[i] ? subs[i] : "");
	return 0;
}

int librune_cgroup_entry_open(const struct rune_cgroup *cg, char *const *specs, struct cgroup_entry *e,
                              rune_error_t *err)
{
	*e = (struct cgroup_entry){ .v2_fd = -1 };
	if (cg == NULL)
		return 0;
	e->dirs = xcalloc(cg->n + 1, sizeof(char *));
	e->fds = xcalloc(cg->n, sizeof(int));
	for (size_t i = 0; i < cg->n; i++)
		e->fds[i] = -1;
	e->n = cg->n;
	int r = sub_dirs(cg, specs, e->dirs, err);
	for (size_t i = 0; r == 0 && specs && *specs && i < cg->n; i++) {
		/* A sub-cgroup that does not exist, in runc's words. */
		cleanup_free char *procs = xasprintf("%s/cgroup.procs", e->dirs[i]);
		if (access(procs, F_OK) < 0)
			r = rune_error(err, errno, "exec --cgroup %s: adding pid to cgroups: %s", specs[0], procs);
	}
	for (size_t i = 0; r == 0 && i < cg->n; i++) {
		if (cg->h[i].v2) {
			e->v2 = i;
			e->v2_fd = e->fds[i] = open(e->dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		} else {
			cleanup_free char *tasks = xasprintf("%s/tasks", e->dirs[i]);
			e->fds[i] = open(tasks, O_WRONLY | O_CLOEXEC);
		}
		if (e->fds[i] < 0)
			r = rune_error(err, errno, "join cgroup: open %s%s", e->dirs[i], cg->h[i].v2 ? "" : "/tasks");
	}
	if (r < 0)
		librune_cgroup_entry_close(e);
	return r;
}

int librune_cgroup_entry_join_v1(const struct cgroup_entry *e, rune_error_t *err)
{
	int r = 0;
	for (size_t i = 0; i < e->n; i++) {
		bool v1 = !(i == e->v2 && e->v2_fd >= 0);
		if (v1 && r == 0 && write(e->fds[i], "0", 1) < 0)
			r = rune_error(err, errno, "join cgroup %s (write its tasks)", e->dirs[i]);
		close(e->fds[i]);
	}
	return r;
}

int librune_cgroup_entry_join_v2(const struct cgroup_entry *e, pid_t pid, rune_error_t *err)
{
	if (e->v2_fd < 0)
		return 0;
	char buf[32];
	snprintf(buf, sizeof(buf), "%d", (int) pid);
	if (librune_cg_write(e->dirs[e->v2], "cgroup.procs", buf, err) < 0)
		return rune_error_wrap(err, "join cgroup");
	return 0;
}

void librune_cgroup_entry_close(struct cgroup_entry *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->fds[i] >= 0)
			close(e->fds[i]);
	free(e->fds);
	for (size_t i = 0; e->dirs && i < e->n; i++)
		free(e->dirs[i]);
	free(e->dirs);
	*e = (struct cgroup_entry){ .v2_fd = -1 };
}

/* The sub-cgroups (directories) of dir, by name. */
static char **sub_cgroups(const char *dir)
{
	char **names = xcalloc(1, sizeof(char *));
	cleanup_dir DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL)
		if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rune_strv_append(&names, e->d_name);
	return names;
}

/* Every pid in dir's cgroup.procs and those of its sub-cgroups (a process
 * moved into one stays the container's). */
static int collect_pids(const char *dir, int depth, pid_t **pids, size_t *n, rune_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/cgroup.procs", dir);
	cleanup_file FILE *f = fopen(path, "re");
	int p;
	if (f == NULL)
		return rune_error(err, errno, "open %s", path);
	while (fscanf(f, "%d", &p) == 1) {
		*pids = xrealloc(*pids, (*n + 1) * sizeof(pid_t));
		(*pids)[(*n)++] = p;
	}
	if (depth > 32)
		return 0;
	cleanup_strv char **subs = sub_cgroups(dir);
	for (char **sub = subs; *sub; sub++) {
		cleanup_free char *child = xasprintf("%s/%s", dir, *sub);
		if (collect_pids(child, depth + 1, pids, n, err) < 0)
			return -1;
	}
	return 0;
}

int librune_cgroup_pids(const struct rune_cgroup *cg, pid_t **pids, size_t *n, rune_error_t *err)
{
	*pids = NULL;
	*n = 0;
	if (cg == NULL || cg->n == 0)
		return rune_error(err, ENOENT, "the container has no cgroup");
	/* Each process is in one cgroup of every hierarchy: one hierarchy's tree has them all. */
	return collect_pids(cg->h[0].dir, 0, pids, n, err);
}

static bool freezer_state_is(const struct rune_cgroup *cg, bool frozen)
{
	const struct cgroup_hier *h = librune_cgroup_find(cg, "freezer");
	if (h && !h->v2) {
		cleanup_free char *s = librune_cg_read(h->dir, "freezer.state");
		return s && strncmp(s, frozen ? "FROZEN" : "THAWED", 6) == 0;
	}
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].v2) {
			cleanup_free char *s = librune_cg_read(cg->h[i].dir, "cgroup.events");
			char *f = s ? strstr(s, "frozen ") : NULL;
			return f && f[7] == (frozen ? '1' : '0');
		}
	return !frozen;
}

bool librune_cgroup_is_frozen(const struct rune_cgroup *cg)
{
	return freezer_state_is(cg, true);
}

int librune_cgroup_freeze(const struct rune_cgroup *cg, bool freeze, rune_error_t *err)
{
	const struct cgroup_hier *h = librune_cgroup_find(cg, "freezer");
	const struct cgroup_hier *v2 = NULL;
	for (size_t i = 0; i < cg->n; i++)
		if (cg->h[i].v2 && (h == NULL || h->v2))
			v2 = &cg->h[i];
	if (h && !h->v2) {
		if (librune_cg_write(h->dir, "freezer.state", freeze ? "FROZEN" : "THAWED", err) < 0)
			return -1;
	} else if (v2) {
		if (librune_cg_write(v2->dir, "cgroup.freeze", freeze ? "1" : "0", err) < 0)
			return -1;
	} else {
		return rune_error(err, ENOTSUP, "no freezer: neither a v1 freezer hierarchy nor cgroup v2 is mounted");
	}
	for (int i = 0; i < 2000; i++) {
		if (freezer_state_is(cg, freeze))
			return 0;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	return rune_error(err, ETIMEDOUT, "the cgroup did not become %s", freeze ? "frozen" : "thawed");
}

/* rmdir, sub-cgroups first (a container may make its own), waiting briefly
 * for tasks that are still exiting (EBUSY with no sub-cgroup left). */
static int remove_dir(const char *dir, rune_error_t *err)
{
	for (int tries = 0;; tries++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || tries > 400)
			return rune_error(err, errno, "remove cgroup %s", dir);
		cleanup_strv char **subs = sub_cgroups(dir);
		for (char **sub = subs; *sub; sub++) {
			cleanup_free char *child = xasprintf("%s/%s", dir, *sub);
			if (remove_dir(child, err) < 0)
				return -1;
		}
		if (subs[0] == NULL)
			nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
	}
}

int librune_cgroup_destroy(const struct rune_cgroup *cg, rune_error_t *err)
{
	int ret = 0;
	for (size_t i = 0; cg && i < cg->n; i++)
		if (cg->h[i].dir && remove_dir(cg->h[i].dir, ret < 0 ? NULL : err) < 0)
			ret = -1;
	return ret;
}

void librune_cgroup_undo_create(const struct rune_cgroup *cg)
{
	for (size_t i = 0; cg && i < cg->n; i++)
		if (cg->h[i].created && cg->h[i].dir)
			remove_dir(cg->h[i].dir, NULL);
}

static long long read_ll(const struct cgroup_hier *h, const char *file)
{
	cleanup_free char *s = h ? librune_cg_read(h->dir, file) : NULL;
	return s ? strtoll(s, NULL, 10) : 0;
}

static long long read_keyed(const struct cgroup_hier *h, const char *file, const char *key)
{
	cleanup_free char *s = h ? librune_cg_read(h->dir, file) : NULL;
	size_t kl = strlen(key);
	for (char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return strtoll(p + kl + 1, NULL, 10);
	return 0;
}

long long librune_cgroup_oom_kills(const struct rune_cgroup *cg)
{
	const struct cgroup_hier *m = librune_cgroup_find(cg, "memory");
	if (m == NULL)
		return -1;
	return m->v2 ? read_keyed(m, "memory.events", "oom_kill") : read_keyed(m, "memory.oom_control", "oom_kill");
}

void librune_cgroup_stats(const struct rune_cgroup *cg, yajl_gen g)
{
	const struct cgroup_hier *m = librune_cgroup_find(cg, "memory"), *c = librune_cgroup_find(cg, "cpuacct");
	const struct cgroup_hier *p = librune_cgroup_find(cg, "pids");
	if (c == NULL)
		c = librune_cgroup_find(cg, "cpu");

	yajl_gen_map_open(g);
	rune_json_gen_key(g, "cpu");
	yajl_gen_map_open(g);
	rune_json_gen_key(g, "usage");
	yajl_gen_map_open(g);
	rune_json_gen_kv_int(g, "total",
	                     c && c->v2 ? read_keyed(c, "cpu.stat", "usage_usec") * 1000 : read_ll(c, "cpuacct.usage"));
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	rune_json_gen_key(g, "memory");
	yajl_gen_map_open(g);
	rune_json_gen_key(g, "usage");
	yajl_gen_map_open(g);
	rune_json_gen_kv_int(g, "usage", read_ll(m, m && m->v2 ? "memory.current" : "memory.usage_in_bytes"));
	rune_json_gen_kv_int(g, "max",
	                     m && m->v2 ? read_ll(m, "memory.peak") : read_ll(m, "memory.max_usage_in_bytes"));
	rune_json_gen_kv_int(g, "limit", read_ll(m, m && m->v2 ? "memory.max" : "memory.limit_in_bytes"));
	rune_json_gen_kv_int(g, "failcnt",
	                     m && m->v2 ? read_keyed(m, "memory.events", "max") : read_ll(m, "memory.failcnt"));
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	rune_json_gen_key(g, "pids");
	yajl_gen_map_open(g);
	rune_json_gen_kv_int(g, "current", read_ll(p, "pids.current"));
	{
		cleanup_free char *lim = p ? librune_cg_read(p->dir, "pids.max") : NULL;
		rune_json_gen_kv_int(g, "limit", lim && strncmp(lim, "max", 3) != 0 ? strtoll(lim, NULL, 10) : 0);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
}

void librune_cgroup_to_json(const struct rune_cgroup *cg, yajl_gen g)
{
	librune_cgroup_to_json_filtered(cg, false, g);
}

void librune_cgroup_to_json_filtered(const struct rune_cgroup *cg, bool only_created, yajl_gen g)
{
	yajl_gen_array_open(g);
	for (size_t i = 0; cg && i < cg->n; i++) {
		if (only_created && !cg->h[i].created)
			continue;
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "mountpoint", cg->h[i].mountpoint);
		rune_json_gen_kv_str(g, "controllers", cg->h[i].controllers);
		rune_json_gen_kv_bool(g, "v2", cg->h[i].v2);
		rune_json_gen_kv_str(g, "dir", cg->h[i].dir);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
}

int librune_cgroup_from_json(yajl_val v, struct rune_cgroup **out, rune_error_t *err)
{
	struct rune_cgroup *cg = xcalloc(1, sizeof(*cg));
	if (v && YAJL_IS_ARRAY(v)) {
		cg->h = xcalloc(v->u.array.len, sizeof(*cg->h));
		for (size_t i = 0; i < v->u.array.len; i++) {
			yajl_val e = v->u.array.values[i];
			struct cgroup_hier *h = &cg->h[cg->n++];
			bool v2 = false;
			if (rune_json_read_string(rune_json_get(e, "mountpoint"), "cgroup.mountpoint", &h->mountpoint,
			                          err)
			        < 0
			    || rune_json_read_string(rune_json_get(e, "controllers"), "cgroup.controllers",
			                             &h->controllers, err)
			           < 0
			    || rune_json_read_string(rune_json_get(e, "dir"), "cgroup.dir", &h->dir, err) < 0
			    || rune_json_read_bool(rune_json_get(e, "v2"), "cgroup.v2", &v2, err) < 0) {
				librune_cgroup_free(cg);
				return -1;
			}
			h->v2 = v2;
		}
	}
	*out = cg;
	return 0;
}

void librune_cgroup_free(struct rune_cgroup *cg)
{
	if (cg == NULL)
		return;
	for (size_t i = 0; i < cg->n; i++) {
		free(cg->h[i].mountpoint);
		free(cg->h[i].controllers);
		free(cg->h[i].dir);
	}
	free(cg->h);
	free(cg);
}
