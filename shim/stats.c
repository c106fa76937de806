/* Stats and OOM: the container's cgroup read from its init's /proc/<pid>/cgroup,
 * answered as containerd/cgroups' Metrics (io.containerd.cgroups.v2.Metrics on
 * a unified hierarchy, io.containerd.cgroups.v1.Metrics on v1), which
 * `ctr task metrics` and the CRI plugin decode. OOM kills are seen through
 * inotify on memory.events (cgroup v2). */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroups_v1.pb-c.h"
#include "cgroups_v2.pb-c.h"
#include "cleanup.h"
#include "events.pb-c.h"
#include "log.h"
#include "shim.h"
#include "util.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The cgroup of pid for controller (NULL: the unified hierarchy), as a directory. */
static char *cgroup_dir(pid_t pid, const char *controller)
{
	cleanup_free char *path = xasprintf("/proc/%d/cgroup", (int) pid);
	cleanup_free char *text = NULL;
	size_t len;
	rune_error_t err = NULL;

	if (rune_read_file(path, 65536, &text, &len, &err) < 0) {
		rune_error_release(&err);
		return NULL;
	}
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || strstr(c2 + 1, ".."))
			continue;
		*c2 = '\0';
		if (controller == NULL && strcmp(line, "0") == 0 && c1[1] == '\0')
			return xasprintf(CGROUP_ROOT "%s", c2 + 1);
		if (controller) {
			for (char *tok = strtok_r(c1 + 1, ",", &c1); tok; tok = strtok_r(NULL, ",", &c1))
				if (strcmp(tok, controller) == 0)
					return xasprintf(CGROUP_ROOT "/%s%s", controller, c2 + 1);
		}
	}
	return NULL;
}

/* A file of one number ("max" reads as UINT64_MAX, as containerd/cgroups reads it). */
static uint64_t read_u64(const char *dir, const char *file)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_free char *text = NULL;
	size_t len;
	rune_error_t err = NULL;

	if (rune_read_file(path, 4096, &text, &len, &err) < 0) {
		rune_error_release(&err);
		return 0;
	}
	if (strncmp(text, "max", 3) == 0)
		return UINT64_MAX;
	return strtoull(text, NULL, 10);
}

struct key_field {
	const char *key;
	size_t offset;
};

/* A flat-keyed file ("key value" per line) into the fields of msg the table names. */
static void read_keyed(const char *dir, const char *file, void *msg, const struct key_field *table, size_t n)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, file);
	cleanup_free char *text = NULL;
	size_t len;
	rune_error_t err = NULL;

	if (rune_read_file(path, 1 << 20, &text, &len, &err) < 0) {
		rune_error_release(&err);
		return;
	}
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		for (size_t i = 0; i < n; i++)
			if (strcmp(line, table[i].key) == 0)
				*(uint64_t *) ((char *) msg + table[i].offset) = strtoull(sp + 1, NULL, 10);
	}
}

static int pack(const ProtobufCMessage *m, uint8_t **value, size_t *len)
{
	*len = protobuf_c_message_get_packed_size(m);
	*value = xmalloc(*len + 1);
	protobuf_c_message_pack(m, *value);
	return 0;
}

#define F2(type, field)                                                                                                \
	{                                                                                                              \
#field, offsetof(type, field)                                                                          \
	}
#define FK(type, key, field)                                                                                           \
	{                                                                                                              \
		key, offsetof(type, field)                                                                             \
	}
typedef Io__Containerd__Cgroups__V2__MemoryStat Mem2;
typedef Io__Containerd__Cgroups__V2__CPUStat Cpu2;
typedef Io__Containerd__Cgroups__V2__MemoryEvents Ev2;
static const struct key_field mem2_keys[] = {
	F2(Mem2, anon),
	F2(Mem2, file),
	F2(Mem2, kernel_stack),
	F2(Mem2, slab),
	F2(Mem2, sock),
	F2(Mem2, shmem),
	F2(Mem2, file_mapped),
	F2(Mem2, file_dirty),
	F2(Mem2, file_writeback),
	F2(Mem2, anon_thp),
	F2(Mem2, inactive_anon),
	F2(Mem2, active_anon),
	F2(Mem2, inactive_file),
	F2(Mem2, active_file),
	F2(Mem2, unevictable),
	F2(Mem2, slab_reclaimable),
	F2(Mem2, slab_unreclaimable),
	F2(Mem2, pgfault),
	F2(Mem2, pgmajfault),
};
static const struct key_field cpu2_keys[] = {
	F2(Cpu2, usage_usec), F2(Cpu2, user_usec),    F2(Cpu2, system_usec),
	F2(Cpu2, nr_periods), F2(Cpu2, nr_throttled), F2(Cpu2, throttled_usec),
};
static const struct key_field ev2_keys[] = { F2(Ev2, low), F2(Ev2, high), F2(Ev2, max), F2(Ev2, oom),
	                                     F2(Ev2, oom_kill) };

static int stats_v2(const char *dir, uint8_t **value, size_t *len)
{
	Io__Containerd__Cgroups__V2__Metrics m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
	Io__Containerd__Cgroups__V2__PidsStat pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
	Cpu2 cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
	Mem2 mem = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	Ev2 ev = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;

	pids.current = read_u64(dir, "pids.current");
	pids.limit = read_u64(dir, "pids.max");
	read_keyed(dir, "cpu.stat", &cpu, cpu2_keys, ARRAY_SIZE(cpu2_keys));
	read_keyed(dir, "memory.stat", &mem, mem2_keys, ARRAY_SIZE(mem2_keys));
	mem.usage = read_u64(dir, "memory.current");
	mem.usage_limit = read_u64(dir, "memory.max");
	mem.swap_usage = read_u64(dir, "memory.swap.current");
	mem.swap_limit = read_u64(dir, "memory.swap.max");
	read_keyed(dir, "memory.events", &ev, ev2_keys, ARRAY_SIZE(ev2_keys));
	m.pids = &pids;
	m.cpu = &cpu;
	m.memory = &mem;
	m.memory_events = &ev;
	return pack(&m.base, value, len);
}

typedef Io__Containerd__Cgroups__V1__MemoryStat Mem1;
typedef Io__Containerd__Cgroups__V1__Throttle Thr1;
static const struct key_field mem1_keys[] = {
	F2(Mem1, cache),
	F2(Mem1, rss),
	F2(Mem1, rss_huge),
	F2(Mem1, mapped_file),
	F2(Mem1, dirty),
	F2(Mem1, writeback),
	FK(Mem1, "pgpgin", pg_pg_in),
	FK(Mem1, "pgpgout", pg_pg_out),
	FK(Mem1, "pgfault", pg_fault),
	FK(Mem1, "pgmajfault", pg_maj_fault),
	F2(Mem1, inactive_anon),
	F2(Mem1, active_anon),
	F2(Mem1, inactive_file),
	F2(Mem1, active_file),
	F2(Mem1, unevictable),
	F2(Mem1, hierarchical_memory_limit),
	F2(Mem1, hierarchical_swap_limit),
};
static const struct key_field thr1_keys[] = { FK(Thr1, "nr_periods", periods),
	                                      FK(Thr1, "nr_throttled", throttled_periods),
	                                      FK(Thr1, "throttled_time", throttled_time) };

static void memory_entry_v1(const char *dir, const char *prefix, Io__Containerd__Cgroups__V1__MemoryEntry *e)
{
	cleanup_free char *usage = xasprintf("%s.usage_in_bytes", prefix);
	cleanup_free char *limit = xasprintf("%s.limit_in_bytes", prefix);
	cleanup_free char *max = xasprintf("%s.max_usage_in_bytes", prefix);
	cleanup_free char *failcnt = xasprintf("%s.failcnt", prefix);

	e->usage = read_u64(dir, usage);
	e->limit = read_u64(dir, limit);
	e->max = read_u64(dir, max);
	e->failcnt = read_u64(dir, failcnt);
}

static int stats_v1(pid_t pid, uint8_t **value, size_t *len)
{
	Io__Containerd__Cgroups__V1__Metrics m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;
	Io__Containerd__Cgroups__V1__PidsStat pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
	Io__Containerd__Cgroups__V1__CPUStat cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	Io__Containerd__Cgroups__V1__CPUUsage usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	Thr1 thr = IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
	Mem1 mem = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	Io__Containerd__Cgroups__V1__MemoryEntry mu = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT,
	                                         ms = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT,
	                                         mk = IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT;
	cleanup_free char *pids_dir = cgroup_dir(pid, "pids"), *cpu_dir = cgroup_dir(pid, "cpuacct");
	cleanup_free char *mem_dir = cgroup_dir(pid, "memory");
	cleanup_free uint64_t *per_cpu = NULL;

	if (pids_dir) {
		pids.current = read_u64(pids_dir, "pids.current");
		pids.limit = read_u64(pids_dir, "pids.max");
		m.pids = &pids;
	}
	if (cpu_dir) {
		cleanup_free char *path = xasprintf("%s/cpuacct.usage_percpu", cpu_dir);
		cleanup_free char *text = NULL;
		size_t tlen;
		rune_error_t err = NULL;
		usage.total = read_u64(cpu_dir, "cpuacct.usage");
		if (rune_read_file(path, 65536, &text, &tlen, &err) == 0) {
			for (char *tok = strtok(text, " \n"); tok && usage.n_per_cpu < 4096;
			     tok = strtok(NULL, " \n")) {
				per_cpu = xrealloc(per_cpu, (usage.n_per_cpu + 1) * sizeof(*per_cpu));
				per_cpu[usage.n_per_cpu++] = strtoull(tok, NULL, 10);
			}
			usage.per_cpu = per_cpu;
		}
		rune_error_release(&err);
		read_keyed(cpu_dir, "cpu.stat", &thr, thr1_keys, ARRAY_SIZE(thr1_keys));
		cpu.usage = &usage;
		cpu.throttling = &thr;
		m.cpu = &cpu;
	}
	if (mem_dir) {
		read_keyed(mem_dir, "memory.stat", &mem, mem1_keys, ARRAY_SIZE(mem1_keys));
		memory_entry_v1(mem_dir, "memory", &mu);
		memory_entry_v1(mem_dir, "memory.memsw", &ms);
		memory_entry_v1(mem_dir, "memory.kmem", &mk);
		mem.usage = &mu;
		mem.swap = &ms;
		mem.kernel = &mk;
		m.memory = &mem;
	}
	return pack(&m.base, value, len);
}

int shim_stats(pid_t pid, char **type_url, uint8_t **value, size_t *len, rune_error_t *err)
{
	cleanup_free char *dir = cgroup_dir(pid, NULL);

	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) == 0) {
		if (dir == NULL)
			return rune_error(err, ESRCH, "stats: no cgroup for pid %d", (int) pid);
		*type_url = xstrdup("io.containerd.cgroups.v2.Metrics");
		return stats_v2(dir, value, len);
	}
	*type_url = xstrdup("io.containerd.cgroups.v1.Metrics");
	return stats_v1(pid, value, len);
}

/* cgroup v1: an eventfd registered with cgroup.event_control against memory.oom_control. */
static void oom_watch_v1(struct shim_server *s, struct shim_task *t)
{
	cleanup_free char *dir = cgroup_dir(t->init.pid, "memory");
	cleanup_free char *control = NULL, *oom = NULL, *line = NULL;
	cleanup_close int oom_fd = -1, control_fd = -1;
	int efd;

	if (dir == NULL)
		return;
	oom = xasprintf("%s/memory.oom_control", dir);
	control = xasprintf("%s/cgroup.event_control", dir);
	oom_fd = open(oom, O_RDONLY | O_CLOEXEC);
	control_fd = open(control, O_WRONLY | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (oom_fd < 0 || control_fd < 0 || efd < 0)
		goto fail;
	line = xasprintf("%d %d", efd, oom_fd);
	if (rune_write_all(control_fd, line, strlen(line)) < 0)
		goto fail;
	t->oom_event = xcalloc(1, sizeof(*t->oom_event));
	t->oom_event->kind = SHIM_W_OOM;
	t->oom_event->fd = efd;
	t->oom_event->task = t;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = t->oom_event };
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, efd, &ev) == 0)
		return;
	free(t->oom_event);
	t->oom_event = NULL;
fail:
	log_debug("task %s: no OOM notification (%s): %m", t->id, dir);
	if (efd >= 0)
		close(efd);
}

void shim_oom_event(struct shim_server *s, struct shim_watch *w)
{
	uint64_t n;

	if (read(w->fd, &n, sizeof(n)) != (ssize_t) sizeof(n))
		return;
	/* The eventfd also fires when the cgroup goes away: only an existing task counts. */
	if (w->task->init.status != SHIM_STOPPED) {
		Containerd__Events__TaskOOM oom = CONTAINERD__EVENTS__TASK_OOM__INIT;
		oom.container_id = w->task->id;
		log_info("task %s: OOM", w->task->id);
		shim_publish(s, "/tasks/oom", &oom.base);
	}
}

void shim_oom_unwatch(struct shim_server *s, struct shim_task *t)
{
	if (t->oom_event) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, t->oom_event->fd, NULL);
		close(t->oom_event->fd);
		free(t->oom_event);
		t->oom_event = NULL;
	}
	if (t->oom_watch >= 0)
		inotify_rm_watch(s->ino_fd, t->oom_watch);
	t->oom_watch = -1;
}

void shim_oom_watch(struct shim_server *s, struct shim_task *t)
{
	cleanup_free char *events = NULL;

	t->oom_watch = -1;
	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) != 0) {
		oom_watch_v1(s, t);
		return;
	}
	t->cgroup = cgroup_dir(t->init.pid, NULL);
	if (t->cgroup == NULL)
		return;
	events = xasprintf("%s/memory.events", t->cgroup);
	t->oom_watch = inotify_add_watch(s->ino_fd, events, IN_MODIFY);
	t->oom_kills = 0;
	if (t->oom_watch >= 0) {
		Ev2 ev = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
		read_keyed(t->cgroup, "memory.events", &ev, ev2_keys, ARRAY_SIZE(ev2_keys));
		t->oom_kills = ev.oom_kill;
	}
}

void shim_oom_check(struct shim_server *s)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(s->ino_fd, buf, sizeof(buf)) > 0)
		;
	for (struct shim_task *t = s->tasks; t; t = t->next) {
		if (t->oom_watch < 0)
			continue;
		Ev2 ev = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
		read_keyed(t->cgroup, "memory.events", &ev, ev2_keys, ARRAY_SIZE(ev2_keys));
		if (ev.oom_kill > t->oom_kills) {
			Containerd__Events__TaskOOM oom = CONTAINERD__EVENTS__TASK_OOM__INIT;
			t->oom_kills = ev.oom_kill;
			oom.container_id = t->id;
			log_info("task %s: OOM kill", t->id);
			shim_publish(s, "/tasks/oom", &oom.base);
		}
	}
}
