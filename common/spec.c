/* The default OCI runtime config, as `runc spec` writes it; `rune spec` and
 * image bundle generation both start from it. */
#include "spec.h"

#include <unistd.h>

#include "array.h"
#include "json.h"

static void gen_mount(yajl_gen g, const char *dest, const char *type, const char *src, const char *const *opts)
{
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "destination", dest);
	rune_json_gen_kv_str(g, "type", type);
	rune_json_gen_kv_str(g, "source", src);
	if (opts) {
		rune_json_gen_key(g, "options");
		rune_json_gen_strv(g, opts);
	}
	yajl_gen_map_close(g);
}

static void gen_idmap(yajl_gen g, const char *key, unsigned id)
{
	rune_json_gen_key(g, key);
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	rune_json_gen_kv_int(g, "containerID", 0);
	rune_json_gen_kv_int(g, "hostID", id);
	rune_json_gen_kv_int(g, "size", 1);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
}

static void gen_process(yajl_gen g, const struct spec_process *p)
{
	static const char *caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };
	static const char *env[] = { SPEC_DEFAULT_PATH, "TERM=xterm", NULL };
	static const char *args[] = { "sh", NULL };
	static const char *sets[] = { "bounding", "effective", "permitted", "ambient" };
	static const struct spec_process runc_default = { .args = args, .env = env, .cwd = "/", .terminal = true };

	if (p == NULL)
		p = &runc_default;
	rune_json_gen_key(g, "process");
	yajl_gen_map_open(g);
	rune_json_gen_kv_bool(g, "terminal", p->terminal);
	rune_json_gen_key(g, "user");
	yajl_gen_map_open(g);
	rune_json_gen_kv_int(g, "uid", p->uid);
	rune_json_gen_kv_int(g, "gid", p->gid);
	if (p->n_gids) {
		rune_json_gen_key(g, "additionalGids");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < p->n_gids; i++)
			yajl_gen_integer(g, p->gids[i]);
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	rune_json_gen_key(g, "args");
	rune_json_gen_strv(g, p->args);
	rune_json_gen_key(g, "env");
	rune_json_gen_strv(g, p->env);
	rune_json_gen_kv_str(g, "cwd", p->cwd && p->cwd[0] ? p->cwd : "/");
	rune_json_gen_key(g, "capabilities");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		rune_json_gen_key(g, sets[i]);
		rune_json_gen_strv(g, caps);
	}
	yajl_gen_map_close(g);
	rune_json_gen_key(g, "rlimits");
	yajl_gen_array_open(g);
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "type", "RLIMIT_NOFILE");
	rune_json_gen_kv_int(g, "hard", 1024);
	rune_json_gen_kv_int(g, "soft", 1024);
	yajl_gen_map_close(g);
	yajl_gen_array_close(g);
	rune_json_gen_kv_bool(g, "noNewPrivileges", true);
	yajl_gen_map_close(g);
}

static void gen_mounts(yajl_gen g, bool rootless)
{
	static const char *dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
	static const char *pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL };
	static const char *pts_rootless[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", NULL };
	static const char *shm[] = { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL };
	static const char *mq[] = { "nosuid", "noexec", "nodev", NULL };
	static const char *sys[] = { "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *sys_rootless[] = { "rbind", "nosuid", "noexec", "nodev", "ro", NULL };
	static const char *cg[] = { "nosuid", "noexec", "nodev", "relatime", "ro", NULL };

	rune_json_gen_key(g, "mounts");
	yajl_gen_array_open(g);
	gen_mount(g, "/proc", "proc", "proc", NULL);
	gen_mount(g, "/dev", "tmpfs", "tmpfs", dev);
	gen_mount(g, "/dev/pts", "devpts", "devpts", rootless ? pts_rootless : pts);
	gen_mount(g, "/dev/shm", "tmpfs", "shm", shm);
	gen_mount(g, "/dev/mqueue", "mqueue", "mqueue", mq);
	if (rootless)
		gen_mount(g, "/sys", "none", "/sys", sys_rootless);
	else
		gen_mount(g, "/sys", "sysfs", "sysfs", sys);
	gen_mount(g, "/sys/fs/cgroup", "cgroup", "cgroup", cg);
	yajl_gen_array_close(g);
}

static void gen_linux(yajl_gen g, bool rootless)
{
	static const char *masked[] = { "/proc/acpi",
		                        "/proc/asound",
		                        "/proc/kcore",
		                        "/proc/keys",
		                        "/proc/latency_stats",
		                        "/proc/timer_list",
		                        "/proc/timer_stats",
		                        "/proc/sched_debug",
		                        "/sys/firmware",
		                        "/proc/scsi",
		                        NULL };
	static const char *ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL };
	static const char *ns[] = { "pid", "network", "ipc", "uts", "mount", NULL };
	static const char *ns_rootless[] = { "pid", "ipc", "uts", "mount", "user", NULL };

	rune_json_gen_key(g, "linux");
	yajl_gen_map_open(g);
	if (rootless) {
		gen_idmap(g, "uidMappings", getuid());
		gen_idmap(g, "gidMappings", getgid());
	} else {
		rune_json_gen_key(g, "resources");
		yajl_gen_map_open(g);
		rune_json_gen_key(g, "devices");
		yajl_gen_array_open(g);
		yajl_gen_map_open(g);
		rune_json_gen_kv_bool(g, "allow", false);
		rune_json_gen_kv_str(g, "access", "rwm");
		yajl_gen_map_close(g);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	rune_json_gen_key(g, "namespaces");
	yajl_gen_array_open(g);
	for (const char **n = rootless ? ns_rootless : ns; *n; n++) {
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "type", *n);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	rune_json_gen_key(g, "maskedPaths");
	rune_json_gen_strv(g, masked);
	rune_json_gen_key(g, "readonlyPaths");
	rune_json_gen_strv(g, ro);
	yajl_gen_map_close(g);
}

void rune_spec_gen(yajl_gen g, const struct spec_opts *o)
{
	yajl_gen_map_open(g);
	/* What runc writes: older runtimes (crun 1.8) refuse newer versions. */
	rune_json_gen_kv_str(g, "ociVersion", "1.0.2-dev");
	gen_process(g, o->process);
	rune_json_gen_key(g, "root");
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "path", "rootfs");
	rune_json_gen_kv_bool(g, "readonly", o->readonly);
	yajl_gen_map_close(g);
	rune_json_gen_kv_str(g, "hostname", o->hostname ? o->hostname : "rune");
	gen_mounts(g, o->rootless);
	if (o->annotations) {
		rune_json_gen_key(g, "annotations");
		yajl_gen_map_open(g);
		o->annotations(g, o->data);
		yajl_gen_map_close(g);
	}
	gen_linux(g, o->rootless);
	yajl_gen_map_close(g);
}
