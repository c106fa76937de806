#include "oci_config.h"

#include <errno.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "cleanup.h"
#include "enclave.h"
#include "seccomp_filter.h"
#include "json.h"
#include "resources.h"
#include "util.h"

static const struct {
	const char *name, *proc;
	int flag;
} ns_kinds[NS_KINDS] = {
	[NS_USER] = { "user", "user", CLONE_NEWUSER },
	[NS_PID] = { "pid", "pid", CLONE_NEWPID },
	[NS_NET] = { "network", "net", CLONE_NEWNET },
	[NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
	[NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
	[NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
	[NS_TIME] = { "time", "time", 0x80 /* CLONE_NEWTIME */ },
	[NS_MOUNT] = { "mount", "mnt", CLONE_NEWNS },
};

const char *librune_ns_kind_name(enum rune_ns_kind k)
{
	return ns_kinds[k].name;
}

const char *librune_ns_kind_proc_name(enum rune_ns_kind k)
{
	return ns_kinds[k].proc;
}

int librune_ns_kind_clone_flag(enum rune_ns_kind k)
{
	return ns_kinds[k].flag;
}

static const char *hook_names[HOOK_KINDS] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *librune_hook_kind_name(enum rune_hook_kind k)
{
	return hook_names[k];
}

int librune_capability_from_name(const char *name)
{
	cap_value_t v;
	if (strncmp(name, "CAP_", 4) != 0 || cap_from_name(name, &v) < 0)
		return -1;
	return v;
}

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

/* Mount options: flags to set or clear, propagation, recursive attributes. */
enum opt_kind { OPT_SET, OPT_CLEAR, OPT_PROPAGATION, OPT_ATTR_SET, OPT_ATTR_CLR, OPT_IGNORE };
static const struct {
	const char *name;
	enum opt_kind kind;
	unsigned long value;
} mount_opts[] = {
	{ "defaults", OPT_SET, 0 },
	{ "ro", OPT_SET, MS_RDONLY },
	{ "rw", OPT_CLEAR, MS_RDONLY },
	{ "suid", OPT_CLEAR, MS_NOSUID },
	{ "nosuid", OPT_SET, MS_NOSUID },
	{ "dev", OPT_CLEAR, MS_NODEV },
	{ "nodev", OPT_SET, MS_NODEV },
	{ "exec", OPT_CLEAR, MS_NOEXEC },
	{ "noexec", OPT_SET, MS_NOEXEC },
	{ "sync", OPT_SET, MS_SYNCHRONOUS },
	{ "async", OPT_CLEAR, MS_SYNCHRONOUS },
	{ "dirsync", OPT_SET, MS_DIRSYNC },
	{ "remount", OPT_SET, MS_REMOUNT },
	{ "mand", OPT_SET, MS_MANDLOCK },
	{ "nomand", OPT_CLEAR, MS_MANDLOCK },
	{ "atime", OPT_CLEAR, MS_NOATIME },
	{ "noatime", OPT_SET, MS_NOATIME },
	{ "diratime", OPT_CLEAR, MS_NODIRATIME },
	{ "nodiratime", OPT_SET, MS_NODIRATIME },
	{ "relatime", OPT_SET, MS_RELATIME },
	{ "norelatime", OPT_CLEAR, MS_RELATIME },
	{ "strictatime", OPT_SET, MS_STRICTATIME },
	{ "nostrictatime", OPT_CLEAR, MS_STRICTATIME },
	{ "lazytime", OPT_SET, MS_LAZYTIME },
	{ "nolazytime", OPT_CLEAR, MS_LAZYTIME },
	{ "iversion", OPT_SET, MS_I_VERSION },
	{ "noiversion", OPT_CLEAR, MS_I_VERSION },
	{ "silent", OPT_SET, MS_SILENT },
	{ "loud", OPT_CLEAR, MS_SILENT },
	{ "nosymfollow", OPT_SET, 256 /* MS_NOSYMFOLLOW */ },
	{ "symfollow", OPT_CLEAR, 256 },
	{ "bind", OPT_SET, MS_BIND },
	{ "rbind", OPT_SET, MS_BIND | MS_REC },
	{ "private", OPT_PROPAGATION, MS_PRIVATE },
	{ "rprivate", OPT_PROPAGATION, MS_PRIVATE | MS_REC },
	{ "shared", OPT_PROPAGATION, MS_SHARED },
	{ "rshared", OPT_PROPAGATION, MS_SHARED | MS_REC },
	{ "slave", OPT_PROPAGATION, MS_SLAVE },
	{ "rslave", OPT_PROPAGATION, MS_SLAVE | MS_REC },
	{ "unbindable", OPT_PROPAGATION, MS_UNBINDABLE },
	{ "runbindable", OPT_PROPAGATION, MS_UNBINDABLE | MS_REC },
	{ "rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY },
	{ "rrw", OPT_ATTR_CLR, MOUNT_ATTR_RDONLY },
	{ "rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID },
	{ "rsuid", OPT_ATTR_CLR, MOUNT_ATTR_NOSUID },
	{ "rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV },
	{ "rdev", OPT_ATTR_CLR, MOUNT_ATTR_NODEV },
	{ "rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC },
	{ "rexec", OPT_ATTR_CLR, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME },
	{ "rdiratime", OPT_ATTR_CLR, MOUNT_ATTR_NODIRATIME },
	{ "rnoatime", OPT_ATTR_SET, MOUNT_ATTR_NOATIME },
	{ "rrelatime", OPT_ATTR_SET, MOUNT_ATTR_RELATIME },
	{ "rstrictatime", OPT_ATTR_SET, MOUNT_ATTR_STRICTATIME },
	{ "rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rsymfollow", OPT_ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW },
	{ "tmpcopyup", OPT_IGNORE, 0 },
};

int librune_mount_options_parse(struct rune_mount *m, const char *where, rune_error_t *err)
{
	size_t datalen = 0;
	(void) where;
	(void) err;

	m->flags = m->propagation = 0;
	m->attr_set = m->attr_clr = 0;
	free(m->data);
	m->data = NULL;
	m->idmap = 0;
	for (char **o = m->options; o && *o; o++) {
		size_t i;
		if (strcmp(*o, "idmap") == 0 || strcmp(*o, "ridmap") == 0) {
			m->idmap = strcmp(*o, "ridmap") == 0 ? 2 : 1;
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(mount_opts); i++)
			if (strcmp(*o, mount_opts[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(mount_opts)) {
			size_t l = strlen(*o);
			m->data = xrealloc(m->data, datalen + l + 2);
			if (datalen)
				m->data[datalen++] = ',';
			memcpy(m->data + datalen, *o, l + 1);
			datalen += l;
			continue;
		}
		switch (mount_opts[i].kind) {
		case OPT_SET:
			m->flags |= mount_opts[i].value;
			break;
		case OPT_CLEAR:
			m->flags &= ~mount_opts[i].value;
			break;
		case OPT_PROPAGATION:
			m->propagation = mount_opts[i].value;
			break;
		case OPT_ATTR_SET:
			m->attr_set |= mount_opts[i].value;
			break;
		case OPT_ATTR_CLR:
			m->attr_clr |= mount_opts[i].value;
			break;
		case OPT_IGNORE:
			break;
		}
	}
	if (m->type && strcmp(m->type, "bind") == 0)
		m->flags |= MS_BIND;
	m->bind = (m->flags & MS_BIND) != 0;
	return 0;
}

static int parse_caps(yajl_val v, const char *where, struct rune_caps *caps, rune_error_t *err)
{
	static const char *sets[] = { "bounding", "effective", "inheritable", "permitted", "ambient" };
	uint64_t *masks[] = { &caps->bounding, &caps->effective, &caps->inheritable, &caps->permitted, &caps->ambient };

	if (v == NULL)
		return 0;
	if (rune_json_expect_object(v, where, err) < 0)
		return -1;
	caps->present = true;
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		yajl_val a = rune_json_get(v, sets[s]);
		cleanup_free char *w = xasprintf("%s.%s", where, sets[s]);
		cleanup_strv char **names = NULL;
		if (rune_json_read_strv(a, w, &names, NULL, err) < 0)
			return -1;
		for (size_t i = 0; names && names[i]; i++) {
			int c = librune_capability_from_name(names[i]);
			if (c < 0 || c > 63)
				return rune_error(err, EINVAL, "%s[%zu]: unknown capability '%s'", w, i, names[i]);
			*masks[s] |= 1ULL << c;
		}
	}
	return 0;
}

static int parse_rlimits(yajl_val v, const char *where, struct rune_process *p, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (rune_json_expect_array(v, where, err) < 0)
		return -1;
	p->rlimits = xcalloc(v->u.array.len, sizeof(*p->rlimits));
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val r = v->u.array.values[i];
		struct rune_rlimit *rl = &p->rlimits[p->n_rlimits++];
		cleanup_free char *w = xasprintf("%s[%zu]", where, i);
		cleanup_free char *wt = xasprintf("%s.type", w);
		cleanup_free char *ws = xasprintf("%s.soft", w);
		cleanup_free char *wh = xasprintf("%s.hard", w);
		size_t k;

		if (rune_json_expect_object(r, w, err) < 0
		    || rune_json_read_string(rune_json_get(r, "type"), wt, &rl->name, err) < 0
		    || rune_json_read_uint64(rune_json_get(r, "soft"), ws, &rl->soft, err) < 0
		    || rune_json_read_uint64(rune_json_get(r, "hard"), wh, &rl->hard, err) < 0)
			return -1;
		if (rl->name == NULL)
			return rune_error(err, EINVAL, "%s: missing", wt);
		for (k = 0; k < ARRAY_SIZE(rlimit_names); k++)
			if (strcmp(rl->name, rlimit_names[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(rlimit_names))
			return rune_error(err, EINVAL, "%s: unknown rlimit type '%s'", wt, rl->name);
		rl->resource = rlimit_names[k].resource;
	}
	return 0;
}

static int read_u32(yajl_val v, const char *where, uint32_t *out, rune_error_t *err)
{
	uint64_t x = *out;
	if (rune_json_read_uint64(v, where, &x, err) < 0)
		return -1;
	if (x > UINT32_MAX)
		return rune_error(err, ERANGE, "%s: %llu is out of range", where, (unsigned long long) x);
	*out = x;
	return 0;
}

static int parse_user(yajl_val u, const char *where, struct rune_process *p, rune_error_t *err)
{
	uint32_t uid = 0, gid = 0, um = 0;
	cleanup_free char *w1 = xasprintf("%s.uid", where), *w2 = xasprintf("%s.gid", where);
	cleanup_free char *w3 = xasprintf("%s.umask", where), *w4 = xasprintf("%s.additionalGids", where);

	if (u == NULL)
		return 0;
	if (rune_json_expect_object(u, where, err) < 0 || read_u32(rune_json_get(u, "uid"), w1, &uid, err) < 0
	    || read_u32(rune_json_get(u, "gid"), w2, &gid, err) < 0)
		return -1;
	p->uid = uid;
	p->gid = gid;
	if (rune_json_get(u, "umask")) {
		if (read_u32(rune_json_get(u, "umask"), w3, &um, err) < 0)
			return -1;
		p->has_umask = true;
		p->umask = um & 07777;
	}
	yajl_val g = rune_json_get(u, "additionalGids");
	if (rune_json_expect_array(g, w4, err) < 0)
		return -1;
	if (g) {
		p->additional_gids = xcalloc(g->u.array.len, sizeof(gid_t));
		for (size_t i = 0; i < g->u.array.len; i++) {
			cleanup_free char *wi = xasprintf("%s[%zu]", w4, i);
			uint32_t x = 0;
			if (read_u32(g->u.array.values[i], wi, &x, err) < 0)
				return -1;
			p->additional_gids[p->n_additional_gids++] = x;
		}
	}
	return 0;
}

static int pick(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (s && strcmp(names[i], s) == 0)
			return i;
	return -1;
}

static int parse_scheduler(yajl_val v, const char *where, struct rune_process *p, rune_error_t *err)
{
	static const char *const policies[] = { "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
		                                "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE", NULL };
	static const char *const flags[] = { "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",
		                             "SCHED_FLAG_DL_OVERRUN",     "SCHED_FLAG_KEEP_POLICY",
		                             "SCHED_FLAG_KEEP_PARAMS",    "SCHED_FLAG_UTIL_CLAMP_MIN",
		                             "SCHED_FLAG_UTIL_CLAMP_MAX", NULL };
	cleanup_free char *policy = NULL;
	cleanup_strv char **fl = NULL;
	int64_t nice = 0, prio = 0;
	uint64_t rt = 0, dl = 0, per = 0;
	if (v == NULL)
		return 0;
	if (rune_json_expect_object(v, where, err) < 0
	    || rune_json_read_string(rune_json_get(v, "policy"), "policy", &policy, err) < 0
	    || rune_json_read_int64(rune_json_get(v, "nice"), "nice", &nice, err) < 0
	    || rune_json_read_int64(rune_json_get(v, "priority"), "priority", &prio, err) < 0
	    || rune_json_read_strv(rune_json_get(v, "flags"), "flags", &fl, NULL, err) < 0
	    || rune_json_read_uint64(rune_json_get(v, "runtime"), "runtime", &rt, err) < 0
	    || rune_json_read_uint64(rune_json_get(v, "deadline"), "deadline", &dl, err) < 0
	    || rune_json_read_uint64(rune_json_get(v, "period"), "period", &per, err) < 0)
		return rune_error_wrap(err, "%s", where);
	int k = pick(policies, policy);
	if (k < 0)
		return rune_error(err, EINVAL, "%s.policy: \"%s\" is not a scheduling policy", where,
		                  policy ? policy : "");
	if (k == 4)
		return rune_error(err, ENOTSUP, "%s.policy: SCHED_ISO is not implemented by Linux", where);
	if (nice < -20 || nice > 19)
		return rune_error(err, EINVAL, "%s.nice: %lld, want -20 to 19", where, (long long) nice);
	if ((k == 1 || k == 2) ? (prio < 1 || prio > 99) : prio != 0)
		return rune_error(err, EINVAL, "%s.priority: %lld is not valid for %s", where, (long long) prio,
		                  policy);
	p->scheduler.flags = 0;
	for (size_t i = 0; fl && fl[i]; i++) {
		int f = pick(flags, fl[i]);
		if (f < 0)
			return rune_error(err, EINVAL, "%s.flags[%zu]: unknown \"%s\"", where, i, fl[i]);
		p->scheduler.flags |= 1ULL << f;
	}
	p->has_scheduler = true;
	p->scheduler.policy = k; /* SCHED_OTHER 0 ... SCHED_DEADLINE 6, in this order */
	p->scheduler.nice = nice;
	p->scheduler.priority = prio;
	p->scheduler.runtime = rt;
	p->scheduler.deadline = dl;
	p->scheduler.period = per;
	return 0;
}

static int parse_io_priority(yajl_val v, const char *where, struct rune_process *p, rune_error_t *err)
{
	static const char *const classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", NULL };
	cleanup_free char *cls = NULL;
	int64_t prio = 0;
	if (v == NULL)
		return 0;
	if (rune_json_expect_object(v, where, err) < 0
	    || rune_json_read_string(rune_json_get(v, "class"), "class", &cls, err) < 0
	    || rune_json_read_int64(rune_json_get(v, "priority"), "priority", &prio, err) < 0)
		return rune_error_wrap(err, "%s", where);
	int k = pick(classes, cls);
	if (k < 0)
		return rune_error(err, EINVAL, "%s.class: \"%s\", want IOPRIO_CLASS_RT, _BE or _IDLE", where,
		                  cls ? cls : "");
	if (prio < 0 || prio > 7)
		return rune_error(err, EINVAL, "%s.priority: %lld, want 0 to 7", where, (long long) prio);
	p->has_io_priority = true;
	p->io_class = k + 1; /* IOPRIO_CLASS_RT is 1 */
	p->io_priority = prio;
	return 0;
}

int librune_config_parse_process(yajl_val v, const char *where, struct rune_process *p, rune_error_t *err)
{
	cleanup_free char *w = NULL;
	int64_t oom = 0;

	if (rune_json_expect_object(v, where, err) < 0)
		return -1;
#define W(field) (free(w), w = xasprintf("%s.%s", where, field))
	if (rune_json_read_bool(rune_json_get(v, "terminal"), W("terminal"), &p->terminal, err) < 0
	    || parse_user(rune_json_get(v, "user"), W("user"), p, err) < 0
	    || rune_json_read_strv(rune_json_get(v, "args"), W("args"), &p->args, NULL, err) < 0
	    || rune_json_read_strv(rune_json_get(v, "env"), W("env"), &p->env, NULL, err) < 0
	    || rune_json_read_string(rune_json_get(v, "cwd"), W("cwd"), &p->cwd, err) < 0
	    || parse_caps(rune_json_get(v, "capabilities"), W("capabilities"), &p->caps, err) < 0
	    || parse_rlimits(rune_json_get(v, "rlimits"), W("rlimits"), p, err) < 0
	    || rune_json_read_bool(rune_json_get(v, "noNewPrivileges"), W("noNewPrivileges"), &p->no_new_privileges,
	                           err)
	           < 0
	    || rune_json_read_string(rune_json_get(v, "apparmorProfile"), W("apparmorProfile"), &p->apparmor_profile,
	                             err)
	           < 0
	    || rune_json_read_string(rune_json_get(v, "selinuxLabel"), W("selinuxLabel"), &p->selinux_label, err) < 0)
		return -1;
	yajl_val cs = rune_json_get(v, "consoleSize");
	if (cs) {
		uint32_t h = 0, wd = 0;
		cleanup_free char *wh = xasprintf("%s.consoleSize.height", where);
		cleanup_free char *ww = xasprintf("%s.consoleSize.width", where);
		if (rune_json_expect_object(cs, W("consoleSize"), err) < 0
		    || read_u32(rune_json_get(cs, "height"), wh, &h, err) < 0
		    || read_u32(rune_json_get(cs, "width"), ww, &wd, err) < 0)
			return -1;
		p->console_height = h;
		p->console_width = wd;
	}
	if (rune_json_get(v, "oomScoreAdj")) {
		if (rune_json_read_int64(rune_json_get(v, "oomScoreAdj"), W("oomScoreAdj"), &oom, err) < 0)
			return -1;
		if (oom < -1000 || oom > 1000)
			return rune_error(err, ERANGE, "%s: %lld is outside -1000..1000", w, (long long) oom);
		p->has_oom_score_adj = true;
		p->oom_score_adj = oom;
	}
	if (parse_scheduler(rune_json_get(v, "scheduler"), W("scheduler"), p, err) < 0
	    || parse_io_priority(rune_json_get(v, "ioPriority"), W("ioPriority"), p, err) < 0)
		return -1;
#undef W
	if (p->args == NULL || p->args[0] == NULL)
		return rune_error(err, EINVAL, "%s.args: must name at least the program to run", where);
	if (p->cwd == NULL)
		return rune_error(err, EINVAL, "%s.cwd: missing (must be an absolute path)", where);
	if (p->cwd[0] != '/')
		return rune_error(err, EINVAL, "%s.cwd: '%s' is not an absolute path", where, p->cwd);
	return 0;
}

static int parse_idmaps(yajl_val v, const char *where, struct rune_idmap **out, size_t *n, rune_error_t *err);

static int parse_mounts(yajl_val v, struct rune_config *c, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (rune_json_expect_array(v, "mounts", err) < 0)
		return -1;
	c->mounts = xcalloc(v->u.array.len, sizeof(*c->mounts));
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val mv = v->u.array.values[i];
		struct rune_mount *m = &c->mounts[c->n_mounts++];
		cleanup_free char *w = xasprintf("mounts[%zu]", i);
		cleanup_free char *wd = xasprintf("%s.destination", w), *wt = xasprintf("%s.type", w);
		cleanup_free char *wsrc = xasprintf("%s.source", w), *wo = xasprintf("%s.options", w);
		if (rune_json_expect_object(mv, w, err) < 0
		    || rune_json_read_string(rune_json_get(mv, "destination"), wd, &m->destination, err) < 0
		    || rune_json_read_string(rune_json_get(mv, "type"), wt, &m->type, err) < 0
		    || rune_json_read_string(rune_json_get(mv, "source"), wsrc, &m->source, err) < 0
		    || rune_json_read_strv(rune_json_get(mv, "options"), wo, &m->options, NULL, err) < 0)
			return -1;
		if (m->destination == NULL || m->destination[0] != '/')
			return rune_error(err, EINVAL, "%s: must be an absolute path", wd);
		if (librune_mount_options_parse(m, wo, err) < 0)
			return -1;
		if (m->type == NULL && !m->bind)
			return rune_error(err, EINVAL, "%s: missing (and the mount is not a bind mount)", wt);
		cleanup_free char *wu = xasprintf("%s.uidMappings", w), *wg = xasprintf("%s.gidMappings", w);
		if (parse_idmaps(rune_json_get(mv, "uidMappings"), wu, &m->uid_map, &m->n_uid_map, err) < 0
		    || parse_idmaps(rune_json_get(mv, "gidMappings"), wg, &m->gid_map, &m->n_gid_map, err) < 0)
			return -1;
		if ((m->n_uid_map || m->n_gid_map) && m->idmap == 0)
			m->idmap = 1;
		if (m->idmap && !m->bind)
			return rune_error(err, EINVAL, "%s: idmapped mounts must be bind mounts", wo);
		if (m->idmap && (m->n_uid_map == 0) != (m->n_gid_map == 0))
			return rune_error(err, EINVAL, "%s: an idmapped mount needs both uidMappings and gidMappings",
			                  w);
	}
	return 0;
}

static int parse_hooks(yajl_val v, struct rune_config *c, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (rune_json_expect_object(v, "hooks", err) < 0)
		return -1;
	for (int k = 0; k < HOOK_KINDS; k++) {
		yajl_val a = rune_json_get(v, hook_names[k]);
		cleanup_free char *w = xasprintf("hooks.%s", hook_names[k]);
		if (a == NULL)
			continue;
		if (rune_json_expect_array(a, w, err) < 0)
			return -1;
		c->hooks[k].v = xcalloc(a->u.array.len, sizeof(struct rune_hook));
		for (size_t i = 0; i < a->u.array.len; i++) {
			struct rune_hook *h = &c->hooks[k].v[c->hooks[k].n++];
			yajl_val hv = a->u.array.values[i];
			cleanup_free char *wi = xasprintf("%s[%zu]", w, i);
			cleanup_free char *wp = xasprintf("%s.path", wi), *wa = xasprintf("%s.args", wi);
			cleanup_free char *we = xasprintf("%s.env", wi), *wt = xasprintf("%s.timeout", wi);
			int64_t t = 0;
			if (rune_json_expect_object(hv, wi, err) < 0
			    || rune_json_read_string(rune_json_get(hv, "path"), wp, &h->path, err) < 0
			    || rune_json_read_strv(rune_json_get(hv, "args"), wa, &h->args, NULL, err) < 0
			    || rune_json_read_strv(rune_json_get(hv, "env"), we, &h->env, NULL, err) < 0
			    || rune_json_read_int64(rune_json_get(hv, "timeout"), wt, &t, err) < 0)
				return -1;
			if (h->path == NULL || h->path[0] != '/')
				return rune_error(err, EINVAL, "%s: must be an absolute path", wp);
			if (rune_json_get(hv, "timeout") && t <= 0)
				return rune_error(err, EINVAL, "%s: must be a positive number of seconds", wt);
			h->timeout = t;
		}
	}
	return 0;
}

static int parse_idmaps(yajl_val v, const char *where, struct rune_idmap **out, size_t *n, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (rune_json_expect_array(v, where, err) < 0)
		return -1;
	*out = xcalloc(v->u.array.len, sizeof(struct rune_idmap));
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val m = v->u.array.values[i];
		struct rune_idmap *im = &(*out)[(*n)++];
		cleanup_free char *w = xasprintf("%s[%zu]", where, i);
		cleanup_free char *wc = xasprintf("%s.containerID", w), *wh = xasprintf("%s.hostID", w);
		cleanup_free char *ws = xasprintf("%s.size", w);
		if (rune_json_expect_object(m, w, err) < 0
		    || read_u32(rune_json_get(m, "containerID"), wc, &im->container_id, err) < 0
		    || read_u32(rune_json_get(m, "hostID"), wh, &im->host_id, err) < 0
		    || read_u32(rune_json_get(m, "size"), ws, &im->size, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_namespaces(yajl_val v, struct rune_config *c, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (rune_json_expect_array(v, "linux.namespaces", err) < 0)
		return -1;
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val n = v->u.array.values[i];
		cleanup_free char *w = xasprintf("linux.namespaces[%zu]", i);
		cleanup_free char *wt = xasprintf("%s.type", w), *wp = xasprintf("%s.path", w);
		cleanup_free char *type = NULL, *path = NULL;
		int k;
		if (rune_json_expect_object(n, w, err) < 0
		    || rune_json_read_string(rune_json_get(n, "type"), wt, &type, err) < 0
		    || rune_json_read_string(rune_json_get(n, "path"), wp, &path, err) < 0)
			return -1;
		if (type == NULL)
			return rune_error(err, EINVAL, "%s: missing", wt);
		for (k = 0; k < NS_KINDS; k++)
			if (strcmp(type, ns_kinds[k].name) == 0)
				break;
		if (k == NS_KINDS)
			return rune_error(err, EINVAL, "%s: unknown namespace type '%s'", wt, type);
		if (c->ns[k].present)
			return rune_error(err, EINVAL, "%s: namespace '%s' is listed twice", wt, type);
		c->ns[k].present = true;
		if (path && path[0]) {
			if (path[0] != '/')
				return rune_error(err, EINVAL, "%s: '%s' is not an absolute path", wp, path);
			c->ns[k].path = take_ptr(path);
		}
	}
	return 0;
}

static int parse_devices(yajl_val v, struct rune_config *c, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (rune_json_expect_array(v, "linux.devices", err) < 0)
		return -1;
	c->devices = xcalloc(v->u.array.len, sizeof(*c->devices));
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val d = v->u.array.values[i];
		struct rune_device *dev = &c->devices[c->n_devices++];
		cleanup_free char *w = xasprintf("linux.devices[%zu]", i);
		cleanup_free char *wp = xasprintf("%s.path", w), *wt = xasprintf("%s.type", w);
		cleanup_free char *wma = xasprintf("%s.major", w), *wmi = xasprintf("%s.minor", w);
		cleanup_free char *wm = xasprintf("%s.fileMode", w), *wu = xasprintf("%s.uid", w),
		                  *wg = xasprintf("%s.gid", w);
		cleanup_free char *type = NULL;
		uint32_t mode = 0, uid = 0, gid = 0;
		if (rune_json_expect_object(d, w, err) < 0
		    || rune_json_read_string(rune_json_get(d, "path"), wp, &dev->path, err) < 0
		    || rune_json_read_string(rune_json_get(d, "type"), wt, &type, err) < 0
		    || rune_json_read_int64(rune_json_get(d, "major"), wma, &dev->major, err) < 0
		    || rune_json_read_int64(rune_json_get(d, "minor"), wmi, &dev->minor, err) < 0
		    || read_u32(rune_json_get(d, "fileMode"), wm, &mode, err) < 0
		    || read_u32(rune_json_get(d, "uid"), wu, &uid, err) < 0
		    || read_u32(rune_json_get(d, "gid"), wg, &gid, err) < 0)
			return -1;
		if (dev->path == NULL || dev->path[0] != '/')
			return rune_error(err, EINVAL, "%s: must be an absolute path", wp);
		if (type == NULL || strlen(type) != 1 || strchr("cbup", type[0]) == NULL)
			return rune_error(err, EINVAL, "%s: must be one of c, b, u, p", wt);
		dev->type = type[0];
		dev->has_mode = rune_json_get(d, "fileMode") != NULL;
		dev->mode = mode & 07777;
		dev->has_uid = rune_json_get(d, "uid") != NULL;
		dev->uid = uid;
		dev->has_gid = rune_json_get(d, "gid") != NULL;
		dev->gid = gid;
	}
	return 0;
}

static int parse_propagation(const char *s, unsigned long *out, rune_error_t *err)
{
	static const struct {
		const char *n;
		unsigned long f;
	} t[] = {
		{ "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
		{ "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
		{ "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
		{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	};
	if (s == NULL || s[0] == '\0')
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (strcmp(s, t[i].n) == 0) {
			*out = t[i].f;
			return 0;
		}
	return rune_error(err, EINVAL, "linux.rootfsPropagation: unknown propagation '%s'", s);
}

static int parse_personality(yajl_val v, struct rune_config *c, rune_error_t *err)
{
	cleanup_free char *domain = NULL;
	cleanup_strv char **flags = NULL;
	if (v == NULL)
		return 0;
	if (rune_json_expect_object(v, "linux.personality", err) < 0
	    || rune_json_read_string(rune_json_get(v, "domain"), "linux.personality.domain", &domain, err) < 0
	    || rune_json_read_strv(rune_json_get(v, "flags"), "linux.personality.flags", &flags, NULL, err) < 0)
		return -1;
	if (domain == NULL || (strcmp(domain, "LINUX") && strcmp(domain, "LINUX32")))
		return rune_error(err, EINVAL, "linux.personality.domain: \"%s\", want LINUX or LINUX32",
		                  domain ? domain : "");
	if (flags && flags[0])
		return rune_error(err, ENOTSUP,
		                  "linux.personality.flags: \"%s\" is not supported (the spec defines none)", flags[0]);
	c->has_personality = true;
	c->personality = strcmp(domain, "LINUX32") == 0 ? 0x0008 /* PER_LINUX32 */ : 0 /* PER_LINUX */;
	return 0;
}

static int parse_time_offsets(yajl_val v, struct rune_config *c, rune_error_t *err)
{
	static const char *const clocks[] = { "monotonic", "boottime" };
	cleanup_free char *text = xstrdup("");
	if (v == NULL)
		return 0;
	if (rune_json_expect_object(v, "linux.timeOffsets", err) < 0)
		return -1;
	for (size_t i = 0; i < v->u.object.len; i++) {
		const char *k = v->u.object.keys[i];
		yajl_val o = v->u.object.values[i];
		int64_t secs = 0;
		uint64_t ns = 0;
		cleanup_free char *w = xasprintf("linux.timeOffsets.%s", k);
		if (strcmp(k, clocks[0]) && strcmp(k, clocks[1]))
			return rune_error(err, EINVAL, "%s: unknown clock (want monotonic or boottime)", w);
		if (rune_json_expect_object(o, w, err) < 0
		    || rune_json_read_int64(rune_json_get(o, "secs"), "secs", &secs, err) < 0
		    || rune_json_read_uint64(rune_json_get(o, "nanosecs"), "nanosecs", &ns, err) < 0)
			return rune_error_wrap(err, "%s", w);
		if (ns >= 1000000000ULL)
			return rune_error(err, EINVAL, "%s.nanosecs: %llu, want less than a second", w,
			                  (unsigned long long) ns);
		char *n = xasprintf("%s%s %lld %llu\n", text, k, (long long) secs, (unsigned long long) ns);
		free(text);
		text = n;
	}
	if (*text) {
		if (!c->ns[NS_TIME].present || c->ns[NS_TIME].path)
			return rune_error(err, EINVAL,
			                  "linux.timeOffsets: needs a new time namespace in linux.namespaces");
		c->time_offsets = take_ptr(text);
	}
	return 0;
}

static int parse_linux(yajl_val l, struct rune_config *c, rune_error_t *err)
{
	cleanup_free char *prop = NULL;
	if (l == NULL)
		return 0;
	if (rune_json_expect_object(l, "linux", err) < 0 || parse_namespaces(rune_json_get(l, "namespaces"), c, err) < 0
	    || parse_idmaps(rune_json_get(l, "uidMappings"), "linux.uidMappings", &c->uid_mappings, &c->n_uid_mappings,
	                    err)
	           < 0
	    || parse_idmaps(rune_json_get(l, "gidMappings"), "linux.gidMappings", &c->gid_mappings, &c->n_gid_mappings,
	                    err)
	           < 0
	    || parse_devices(rune_json_get(l, "devices"), c, err) < 0
	    || rune_json_read_string(rune_json_get(l, "cgroupsPath"), "linux.cgroupsPath", &c->cgroups_path, err) < 0
	    || rune_json_read_string(rune_json_get(l, "rootfsPropagation"), "linux.rootfsPropagation", &prop, err) < 0
	    || parse_propagation(prop, &c->rootfs_propagation, err) < 0
	    || rune_json_read_strv(rune_json_get(l, "maskedPaths"), "linux.maskedPaths", &c->masked_paths, NULL, err)
	           < 0
	    || rune_json_read_strv(rune_json_get(l, "readonlyPaths"), "linux.readonlyPaths", &c->readonly_paths, NULL,
	                           err)
	           < 0
	    || rune_json_read_string(rune_json_get(l, "mountLabel"), "linux.mountLabel", &c->mount_label, err) < 0
	    || librune_resources_parse(rune_json_get(l, "resources"), "linux.resources", &c->resources, err) < 0
	    || librune_seccomp_parse(rune_json_get(l, "seccomp"), &c->seccomp_filter, err) < 0
	    || parse_personality(rune_json_get(l, "personality"), c, err) < 0
	    || parse_time_offsets(rune_json_get(l, "timeOffsets"), c, err) < 0)
		return -1;
	yajl_val s = rune_json_get(l, "sysctl");
	if (rune_json_expect_object(s, "linux.sysctl", err) < 0)
		return -1;
	if (s) {
		size_t n = s->u.object.len;
		c->sysctl_keys = xcalloc(n + 1, sizeof(char *));
		c->sysctl_values = xcalloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++) {
			cleanup_free char *w = xasprintf("linux.sysctl.%s", s->u.object.keys[i]);
			c->sysctl_keys[i] = xstrdup(s->u.object.keys[i]);
			if (rune_json_read_string(s->u.object.values[i], w, &c->sysctl_values[i], err) < 0)
				return -1;
		}
	}
	if ((c->n_uid_mappings || c->n_gid_mappings) && !c->ns[NS_USER].present)
		return rune_error(err, EINVAL, "linux.uidMappings: mappings given without a user namespace");
	if (c->ns[NS_USER].present && !c->ns[NS_USER].path && (!c->n_uid_mappings || !c->n_gid_mappings))
		return rune_error(err, EINVAL,
		                  "linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
	return 0;
}

int librune_config_parse(const char *text, const char *where, struct rune_config **out, rune_error_t *err)
{
	cleanup_config struct rune_config *c = xcalloc(1, sizeof(*c));
	yajl_val root;

	if (rune_json_parse(text, where, &c->tree, err) < 0)
		return -1;
	if (!YAJL_IS_OBJECT(c->tree))
		return rune_error(err, EINVAL, "%s: the top level must be a JSON object", where);
	if (rune_json_read_string(rune_json_get(c->tree, "ociVersion"), "ociVersion", &c->oci_version, err) < 0)
		goto fail;
	root = rune_json_get(c->tree, "root");
	if (rune_json_expect_object(root, "root", err) < 0
	    || rune_json_read_string(rune_json_get(root, "path"), "root.path", &c->root_path, err) < 0
	    || rune_json_read_bool(rune_json_get(root, "readonly"), "root.readonly", &c->root_readonly, err) < 0
	    || rune_json_read_string(rune_json_get(c->tree, "hostname"), "hostname", &c->hostname, err) < 0
	    || rune_json_read_string(rune_json_get(c->tree, "domainname"), "domainname", &c->domainname, err) < 0
	    || parse_mounts(rune_json_get(c->tree, "mounts"), c, err) < 0
	    || parse_hooks(rune_json_get(c->tree, "hooks"), c, err) < 0
	    || rune_json_expect_object(rune_json_get(c->tree, "annotations"), "annotations", err) < 0
	    || parse_linux(rune_json_get(c->tree, "linux"), c, err) < 0)
		goto fail;
	if (c->oci_version == NULL) {
		rune_error(err, EINVAL, "ociVersion: missing");
		goto fail;
	}
	if (c->root_path == NULL || c->root_path[0] == '\0') {
		rune_error(err, EINVAL, "root.path: missing");
		goto fail;
	}
	c->annotations = rune_json_get(c->tree, "annotations");
	if (rune_json_get(c->tree, "process")) {
		c->has_process = true;
		if (librune_config_parse_process(rune_json_get(c->tree, "process"), "process", &c->process, err) < 0)
			goto fail;
	}
	if (librune_enclave_config_parse(c, err) < 0)
		goto fail;
	*out = take_ptr(c);
	return 0;
fail:
	return rune_error_wrap(err, "%s", where);
}

int librune_config_load(const char *path, struct rune_config **out, rune_error_t *err)
{
	cleanup_free char *text = NULL;
	if (rune_read_file(path, CONFIG_MAX_BYTES, &text, NULL, err) < 0)
		return -1;
	return librune_config_parse(text, path, out, err);
}

void librune_process_release(struct rune_process *p)
{
	free(p->additional_gids);
	cleanup_strvp(&p->args);
	cleanup_strvp(&p->env);
	free(p->cwd);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].name);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	memset(p, 0, sizeof(*p));
}

void librune_config_free(struct rune_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		free(c->mounts[i].data);
		free(c->mounts[i].uid_map);
		free(c->mounts[i].gid_map);
		cleanup_strvp(&c->mounts[i].options);
	}
	free(c->mounts);
	for (int k = 0; k < HOOK_KINDS; k++) {
		for (size_t i = 0; i < c->hooks[k].n; i++) {
			free(c->hooks[k].v[i].path);
			cleanup_strvp(&c->hooks[k].v[i].args);
			cleanup_strvp(&c->hooks[k].v[i].env);
		}
		free(c->hooks[k].v);
	}
	for (int k = 0; k < NS_KINDS; k++)
		free(c->ns[k].path);
	for (size_t i = 0; i < c->n_devices; i++)
		free(c->devices[i].path);
	free(c->devices);
	free(c->uid_mappings);
	free(c->gid_mappings);
	free(c->cgroups_path);
	cleanup_strvp(&c->masked_paths);
	cleanup_strvp(&c->readonly_paths);
	cleanup_strvp(&c->sysctl_keys);
	cleanup_strvp(&c->sysctl_values);
	free(c->mount_label);
	free(c->oci_version);
	free(c->root_path);
	free(c->hostname);
	free(c->domainname);
	librune_process_release(&c->process);
	librune_enclave_free(c->enclave);
	free(c->time_offsets);
	librune_seccomp_free(c->seccomp_filter);
	librune_resources_free(c->resources);
	if (c->tree)
		yajl_tree_free(c->tree);
	free(c);
}
