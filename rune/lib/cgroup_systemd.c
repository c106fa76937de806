/* The systemd cgroup driver (--systemd-cgroup): systemd owns the cgroup
 * tree, so the container's cgroup is a transient scope unit it creates for
 * the init's pid (StartTransientUnit over its private D-Bus socket, with
 * Delegate=yes so rune may then write resources into it). libsystemd is
 * loaded only here, only when asked for: rune's usual start stays lean. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "util.h"

#define SYSTEMD_PRIVATE "/run/systemd/private"

/* The sd-bus ABI we use (libsystemd.so.0), declared here so rune needs no
 * libsystemd at build or link time. */
typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
typedef struct {
	const char *name, *message;
	int _need_free;
} sd_bus_error;

static struct {
	void *dl;
	int (*bus_new)(sd_bus **);
	int (*set_address)(sd_bus *, const char *);
	int (*start)(sd_bus *);
	sd_bus *(*flush_close_unref)(sd_bus *);
	int (*new_method_call)(sd_bus *, sd_bus_message **, const char *, const char *, const char *, const char *);
	int (*append)(sd_bus_message *, const char *, ...);
	int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
	sd_bus_message *(*message_unref)(sd_bus_message *);
	void (*error_free)(sd_bus_error *);
} SD;

static int load_libsystemd(rune_error_t *err)
{
	if (SD.dl)
		return 0;
	void *dl = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL)
		return rune_error(err, ENOENT, "--systemd-cgroup: cannot load libsystemd.so.0: %s", dlerror());
	static const char *const names[] = { "sd_bus_new",
		                             "sd_bus_set_address",
		                             "sd_bus_start",
		                             "sd_bus_flush_close_unref",
		                             "sd_bus_message_new_method_call",
		                             "sd_bus_message_append",
		                             "sd_bus_call",
		                             "sd_bus_message_unref",
		                             "sd_bus_error_free" };
	void *fns[ARRAY_SIZE(names)];
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if ((fns[i] = dlsym(dl, names[i])) == NULL) {
			dlclose(dl);
			return rune_error(err, ENOSYS, "--systemd-cgroup: libsystemd.so.0 lacks %s", names[i]);
		}
	memcpy(&SD.bus_new, &fns[0], sizeof(void *));
	memcpy(&SD.set_address, &fns[1], sizeof(void *));
	memcpy(&SD.start, &fns[2], sizeof(void *));
	memcpy(&SD.flush_close_unref, &fns[3], sizeof(void *));
	memcpy(&SD.new_method_call, &fns[4], sizeof(void *));
	memcpy(&SD.append, &fns[5], sizeof(void *));
	memcpy(&SD.call, &fns[6], sizeof(void *));
	memcpy(&SD.message_unref, &fns[7], sizeof(void *));
	memcpy(&SD.error_free, &fns[8], sizeof(void *));
	SD.dl = dl;
	return 0;
}

/* runc's systemd cgroupsPath: "slice:prefix:name". */
static int unit_names(const char *cgroups_path, const char *id, char **slice, char **unit, rune_error_t *err)
{
	cleanup_free char *copy = xstrdup(cgroups_path ? cgroups_path : "");
	char *parts[3] = { NULL, NULL, NULL };
	int n = 0;
	for (char *p = copy; n < 3;) {
		parts[n++] = p;
		char *c = strchr(p, ':');
		if (c == NULL)
			break;
		*c = '\0';
		p = c + 1;
	}
	if (copy[0] && n != 3)
		return rune_error(err, EINVAL,
		                  "linux.cgroupsPath \"%s\": with --systemd-cgroup it is slice:prefix:name",
		                  cgroups_path);
	const char *s = n == 3 && parts[0][0] ? parts[0] : "system.slice";
	const char *prefix = n == 3 ? parts[1] : "rune";
	const char *name = n == 3 && parts[2][0] ? parts[2] : id;
	if (strlen(s) < 7 || strcmp(s + strlen(s) - 6, ".slice") != 0 || strchr(s, '/'))
		return rune_error(err, EINVAL, "linux.cgroupsPath: \"%s\" is not a systemd slice name", s);
	if (strchr(name, '/') || strstr(name, ".slice"))
		return rune_error(err, EINVAL, "linux.cgroupsPath: \"%s\" cannot name a scope", name);
	*slice = xstrdup(s);
	*unit = *prefix ? xasprintf("%s-%s.scope", prefix, name) : xasprintf("%s.scope", name);
	return 0;
}

static int start_scope(const char *slice, const char *unit, const char *id, pid_t pid, rune_error_t *err)
{
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = { 0 };
	cleanup_free char *desc = xasprintf("rune container %s", id);
	int r = SD.bus_new(&bus);
	if (r >= 0)
		r = SD.set_address(bus, "unix:path=" SYSTEMD_PRIVATE);
	if (r >= 0)
		r = SD.start(bus);
	if (r < 0) {
		if (bus)
			SD.flush_close_unref(bus);
		return rune_error(err, -r, "--systemd-cgroup: connect to systemd at " SYSTEMD_PRIVATE);
	}
	r = SD.new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
	                       "org.freedesktop.systemd1.Manager", "StartTransientUnit");
	if (r >= 0)
		r = SD.append(m, "ss", unit, "fail");
	if (r >= 0)
		r = SD.append(m, "a(sv)", 4, "PIDs", "au", 1, (uint32_t) pid, "Slice", "s", slice, "Delegate", "b", 1,
		              "Description", "s", desc);
	if (r >= 0)
		r = SD.append(m, "a(sa(sv))", 0);
	if (r >= 0)
		r = SD.call(bus, m, 0, &e, &reply);
	if (r < 0)
		rune_error(err, -r, "--systemd-cgroup: StartTransientUnit %s in %s%s%s", unit, slice,
		           e.message ? ": " : "", e.message ? e.message : "");
	SD.error_free(&e);
	if (reply)
		SD.message_unref(reply);
	if (m)
		SD.message_unref(m);
	SD.flush_close_unref(bus);
	return r < 0 ? -1 : 0;
}

/* systemd moves the pid when its job runs: wait for it (5 s). */
static int wait_placed(pid_t pid, const char *unit, rune_error_t *err)
{
	cleanup_free char *file = xasprintf("/proc/%d/cgroup", (int) pid);
	for (int i = 0; i < 500; i++) {
		cleanup_free char *text = NULL;
		rune_error_t ignored = NULL;
		if (rune_read_file(file, 1 << 16, &text, NULL, &ignored) < 0) {
			rune_error_release(&ignored);
			break;
		}
		if (strstr(text, unit))
			return 0;
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	}
	return rune_error(err, ETIMEDOUT, "--systemd-cgroup: systemd did not move pid %d into %s", (int) pid, unit);
}

int librune_cgroup_systemd_place(const char *cgroups_path, const char *id, pid_t pid, struct rune_cgroup **out,
                                 rune_error_t *err)
{
	cleanup_free char *slice = NULL, *unit = NULL;
	if (access(SYSTEMD_PRIVATE, F_OK) < 0)
		return rune_error(err, ENOTSUP,
		                  "--systemd-cgroup: systemd is not running on this host (no " SYSTEMD_PRIVATE
		                  "; PID 1 is not systemd)");
	if (unit_names(cgroups_path, id, &slice, &unit, err) < 0 || load_libsystemd(err) < 0
	    || start_scope(slice, unit, id, pid, err) < 0 || wait_placed(pid, unit, err) < 0)
		return -1;
	return librune_cgroup_adopt(pid, out, err);
}
