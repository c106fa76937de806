/* linux.resources onto cgroupfs, v1 and v2: memory, cpu, pids, blockIO,
 * hugepageLimits, network, rdma and the unified map. Every field either takes
 * effect or fails naming itself and why the host cannot do it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define W "linux.resources."

struct res {
	const struct rune_cgroup *cg;
	rune_error_t *err;
};

static const struct cgroup_hier *need(struct res *r, const char *ctrl, const char *field)
{
	const struct cgroup_hier *h = cgroup_find(r->cg, ctrl);
	if (h == NULL)
		rune_error(r->err, ENOTSUP, W "%s: the %s controller is not available on this host", field, ctrl);
	return h;
}

/* An integer member, if present: 1 and its value, 0 if absent, -1 on a type error. */
static int get(yajl_val obj, const char *key, const char *where, long long *out, rune_error_t *err)
{
	yajl_val v = json_get(obj, key);
	if (v == NULL || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_INTEGER(v)) {
		if (YAJL_IS_NUMBER(v) && v->u.number.flags & YAJL_NUMBER_DOUBLE_VALID)
			return rune_error(err, EINVAL, W "%s.%s: not an integer", where, key);
		/* beyond int64: an unsigned "unlimited" from some clients */
		if (YAJL_IS_NUMBER(v)) {
			*out = -1;
			return 1;
		}
		return rune_error(err, EINVAL, W "%s.%s: not a number", where, key);
	}
	*out = YAJL_GET_INTEGER(v);
	return 1;
}

static int wr(struct res *r, const struct cgroup_hier *h, const char *file, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int wr(struct res *r, const struct cgroup_hier *h, const char *file, const char *field, const char *fmt, ...)
{
	va_list ap;
	char *v;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		oom();
	va_end(ap);
	cleanup_free char *val = v;
	cleanup_free char *path = xasprintf("%s/%s", h->dir, file);
	if (access(path, F_OK) < 0)
		return rune_error(r->err, ENOTSUP, W "%s: %s does not exist (not supported by this kernel or host)",
		                  field, path);
	if (cg_write(h->dir, file, val, r->err) < 0)
		return rune_error_wrap(r->err, W "%s", field);
	return 0;
}

static const char *lim(long long v, bool v2, char *buf, size_t n)
{
	if (v < 0)
		return v2 ? "max" : "-1";
	snprintf(buf, n, "%lld", v);
	return buf;
}

static int memory_v1(struct res *r, const struct cgroup_hier *h, yajl_val m)
{
	long long limit = 0, swap = 0, v;
	char b1[32], b2[32];
	int has_limit = get(m, "limit", "memory", &limit, r->err), has_swap = get(m, "swap", "memory", &swap, r->err);
	if (has_limit < 0 || has_swap < 0)
		return -1;
	/* memory.memsw must stay >= memory.limit: order the writes so each one is valid. */
	if (has_limit && has_swap) {
		rune_error_t e = NULL;
		if (cg_write(h->dir, "memory.memsw.limit_in_bytes", lim(swap, false, b2, 32), &e) == 0) {
			if (wr(r, h, "memory.limit_in_bytes", "memory.limit", "%s", lim(limit, false, b1, 32)) < 0)
				return -1;
		} else if (wr(r, h, "memory.limit_in_bytes", "memory.limit", "%s", lim(limit, false, b1, 32)) < 0
		           || wr(r, h, "memory.memsw.limit_in_bytes", "memory.swap", "%s", lim(swap, false, b2, 32))
		                  < 0) {
			rune_error_release(&e);
			return -1;
		}
		rune_error_release(&e);
	} else if (has_limit) {
		if (wr(r, h, "memory.limit_in_bytes", "memory.limit", "%s", lim(limit, false, b1, 32)) < 0)
			return -1;
	} else if (has_swap) {
		if (wr(r, h, "memory.memsw.limit_in_bytes", "memory.swap", "%s", lim(swap, false, b2, 32)) < 0)
			return -1;
	}
	int k;
	if ((k = get(m, "reservation", "memory", &v, r->err)) < 0
	    || (k && wr(r, h, "memory.soft_limit_in_bytes", "memory.reservation", "%s", lim(v, false, b1, 32)) < 0))
		return -1;
	if ((k = get(m, "kernelTCP", "memory", &v, r->err)) < 0
	    || (k && wr(r, h, "memory.kmem.tcp.limit_in_bytes", "memory.kernelTCP", "%s", lim(v, false, b1, 32)) < 0))
		return -1;
	if ((k = get(m, "swappiness", "memory", &v, r->err)) < 0)
		return -1;
	if (k && (v < 0 || v > 100))
		return rune_error(r->err, EINVAL, W "memory.swappiness: %lld, want 0 to 100", v);
	if (k && wr(r, h, "memory.swappiness", "memory.swappiness", "%lld", v) < 0)
		return -1;
	if ((k = get(m, "kernel", "memory", &v, r->err)) < 0)
		return -1;
	if (k)
		log_debug(W "memory.kernel is deprecated and ignored (as runc does)");
	bool b = false;
	if (json_read_bool(json_get(m, "disableOOMKiller"), W "memory.disableOOMKiller", &b, r->err) < 0)
		return -1;
	if (b && wr(r, h, "memory.oom_control", "memory.disableOOMKiller", "1") < 0)
		return -1;
	return 0;
}

static int memory_v2(struct res *r, const struct cgroup_hier *h, yajl_val m)
{
	long long limit = 0, swap = 0, v;
	char b[32];
	int has_limit = get(m, "limit", "memory", &limit, r->err), has_swap = get(m, "swap", "memory", &swap, r->err);
	if (has_limit < 0 || has_swap < 0)
		return -1;
	bool check = false, nooom = false;
	if (json_read_bool(json_get(m, "checkBeforeUpdate"), W "memory.checkBeforeUpdate", &check, r->err) < 0
	    || json_read_bool(json_get(m, "disableOOMKiller"), W "memory.disableOOMKiller", &nooom, r->err) < 0)
		return -1;
	if (nooom)
		return rune_error(r->err, ENOTSUP, W "memory.disableOOMKiller: cgroup v2 has no such knob");
	if (has_limit && check && limit > 0) {
		cleanup_free char *cur = cg_read(h->dir, "memory.current");
		if (cur && strtoll(cur, NULL, 10) > limit)
			return rune_error(r->err, EBUSY, W "memory.limit: %lld is below the current usage %lld", limit,
			                  strtoll(cur, NULL, 10));
	}
	if (has_limit && wr(r, h, "memory.max", "memory.limit", "%s", lim(limit, true, b, 32)) < 0)
		return -1;
	/* The spec's swap is memory+swap; v2 counts swap alone. */
	if (has_swap) {
		if (swap >= 0 && has_limit && limit >= 0 && swap < limit)
			return rune_error(r->err, EINVAL,
			                  W "memory.swap: %lld is below memory.limit %lld (swap is memory+swap)", swap,
			                  limit);
		long long s = swap < 0 || !has_limit || limit < 0 ? swap : swap - limit;
		if (wr(r, h, "memory.swap.max", "memory.swap", "%s", lim(s, true, b, 32)) < 0)
			return -1;
	}
	int k;
	if ((k = get(m, "reservation", "memory", &v, r->err)) < 0
	    || (k && wr(r, h, "memory.low", "memory.reservation", "%s", lim(v, true, b, 32)) < 0))
		return -1;
	if ((k = get(m, "swappiness", "memory", &v, r->err)) < 0)
		return -1;
	if (k)
		return rune_error(r->err, ENOTSUP, W "memory.swappiness: cgroup v2 has no per-cgroup swappiness");
	if ((k = get(m, "kernelTCP", "memory", &v, r->err)) < 0)
		return -1;
	if (k)
		return rune_error(r->err, ENOTSUP, W "memory.kernelTCP: cgroup v2 has no TCP memory limit");
	return 0;
}

static int apply_memory(struct res *r, yajl_val m)
{
	if (m == NULL)
		return 0;
	if (json_expect_object(m, W "memory", r->err) < 0)
		return -1;
	if (m->u.object.len == 0)
		return 0;
	const struct cgroup_hier *h = need(r, "memory", "memory");
	if (h == NULL)
		return -1;
	return h->v2 ? memory_v2(r, h, m) : memory_v1(r, h, m);
}

static int apply_cpu(struct res *r, yajl_val c)
{
	long long v, quota = 0, period = 0, burst = 0;
	int k;
	if (c == NULL)
		return 0;
	if (json_expect_object(c, W "cpu", r->err) < 0)
		return -1;
	int hq = get(c, "quota", "cpu", &quota, r->err), hp = get(c, "period", "cpu", &period, r->err);
	int hb = get(c, "burst", "cpu", &burst, r->err);
	if (hq < 0 || hp < 0 || hb < 0)
		return -1;
	const struct cgroup_hier *h = NULL;
	if ((k = get(c, "shares", "cpu", &v, r->err)) < 0)
		return -1;
	if (k && v > 0) {
		if (!(h = need(r, "cpu", "cpu.shares")))
			return -1;
		/* v2 weight from v1 shares, as runc and crun convert them. */
		if (h->v2 ? wr(r, h, "cpu.weight", "cpu.shares", "%lld", 1 + ((v - 2) * 9999) / 262142)
		          : wr(r, h, "cpu.shares", "cpu.shares", "%lld", v))
			return -1;
	}
	if (hq || hp || hb) {
		if (!(h = need(r, "cpu", "cpu.quota")))
			return -1;
		if (h->v2) {
			cleanup_free char *cur = cg_read(h->dir, "cpu.max");
			long long cur_period =
			    cur && strchr(cur, ' ') ? strtoll(strchr(cur, ' ') + 1, NULL, 10) : 100000;
			char b[32];
			if ((hq || hp)
			    && wr(r, h, "cpu.max", "cpu.quota", "%s %lld", hq ? lim(quota, true, b, 32) : "max",
			          hp ? period : cur_period)
			           < 0)
				return -1;
			if (hb && wr(r, h, "cpu.max.burst", "cpu.burst", "%lld", burst) < 0)
				return -1;
		} else {
			if (hp && wr(r, h, "cpu.cfs_period_us", "cpu.period", "%lld", period) < 0)
				return -1;
			if (hq && wr(r, h, "cpu.cfs_quota_us", "cpu.quota", "%lld", quota < 0 ? -1 : quota) < 0)
				return -1;
			if (hb && wr(r, h, "cpu.cfs_burst_us", "cpu.burst", "%lld", burst) < 0)
				return -1;
		}
	}
	long long rt_runtime = 0, rt_period = 0;
	int hrr = get(c, "realtimeRuntime", "cpu", &rt_runtime, r->err);
	int hrp = get(c, "realtimePeriod", "cpu", &rt_period, r->err);
	if (hrr < 0 || hrp < 0)
		return -1;
	if ((hrr && rt_runtime) || (hrp && rt_period)) {
		if (!(h = need(r, "cpu", "cpu.realtimeRuntime")))
			return -1;
		if (h->v2)
			return rune_error(r->err, ENOTSUP,
			                  W "cpu.realtimeRuntime: cgroup v2 has no realtime scheduling limits");
		if ((hrp && wr(r, h, "cpu.rt_period_us", "cpu.realtimePeriod", "%lld", rt_period) < 0)
		    || (hrr && wr(r, h, "cpu.rt_runtime_us", "cpu.realtimeRuntime", "%lld", rt_runtime) < 0))
			return -1;
	}
	if ((k = get(c, "idle", "cpu", &v, r->err)) < 0)
		return -1;
	if (k && (!(h = need(r, "cpu", "cpu.idle")) || wr(r, h, "cpu.idle", "cpu.idle", "%lld", v) < 0))
		return -1;
	static const char *const sets[][2] = { { "cpus", "cpuset.cpus" }, { "mems", "cpuset.mems" } };
	for (size_t i = 0; i < 2; i++) {
		yajl_val s = json_get(c, sets[i][0]);
		cleanup_free char *field = xasprintf("cpu.%s", sets[i][0]);
		if (s && !YAJL_IS_STRING(s))
			return rune_error(r->err, EINVAL, W "%s: not a string", field);
		if (s && s->u.string[0]
		    && (!(h = need(r, "cpuset", field)) || wr(r, h, sets[i][1], field, "%s", s->u.string) < 0))
			return -1;
	}
	return 0;
}

static int apply_pids(struct res *r, yajl_val p)
{
	long long v;
	int k;
	if (p == NULL)
		return 0;
	if (json_expect_object(p, W "pids", r->err) < 0 || (k = get(p, "limit", "pids", &v, r->err)) < 0)
		return -1;
	const struct cgroup_hier *h;
	if (k
	    && (!(h = need(r, "pids", "pids.limit"))
	        || wr(r, h, "pids.max", "pids.limit", v <= 0 ? "max" : "%lld", v) < 0))
		return -1;
	return 0;
}

/* weightDevice and throttle lists: [{major, minor, weight|rate}]. */
static int device_list(struct res *r, const struct cgroup_hier *h, yajl_val list, const char *field, const char *key,
                       const char *v1file, const char *v2key)
{
	if (list == NULL)
		return 0;
	if (json_expect_array(list, field, r->err) < 0)
		return -1;
	for (size_t i = 0; i < list->u.array.len; i++) {
		yajl_val d = list->u.array.values[i];
		cleanup_free char *w = xasprintf("%s[%zu]", field, i);
		long long maj = 0, min = 0, val = 0;
		if (get(d, "major", w, &maj, r->err) <= 0 || get(d, "minor", w, &min, r->err) <= 0
		    || get(d, key, w, &val, r->err) <= 0)
			return *r->err ? -1 : rune_error(r->err, EINVAL, W "%s: needs major, minor and %s", w, key);
		int rc;
		if (!h->v2)
			rc = wr(r, h, v1file, w, "%lld:%lld %lld", maj, min, val);
		else if (strcmp(v2key, "weight") == 0) {
			cleanup_free char *bfq = xasprintf("%s/io.bfq.weight", h->dir);
			rc = wr(r, h, access(bfq, F_OK) == 0 ? "io.bfq.weight" : "io.weight", w, "%lld:%lld %lld", maj,
			        min, val);
		} else
			rc = wr(r, h, "io.max", w, "%lld:%lld %s=%lld", maj, min, v2key, val);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int apply_blkio(struct res *r, yajl_val b)
{
	long long v;
	int k;
	if (b == NULL)
		return 0;
	if (json_expect_object(b, W "blockIO", r->err) < 0)
		return -1;
	if (b->u.object.len == 0)
		return 0;
	const struct cgroup_hier *h = need(r, "blkio", "blockIO");
	if (h == NULL)
		return -1;
	if ((k = get(b, "weight", "blockIO", &v, r->err)) < 0)
		return -1;
	if (k) {
		cleanup_free char *bfq = xasprintf("%s/%s", h->dir, h->v2 ? "io.bfq.weight" : "blkio.bfq.weight");
		const char *file = access(bfq, F_OK) == 0 ? strrchr(bfq, '/') + 1
		                   : h->v2                ? "io.weight"
		                                          : "blkio.weight";
		if (wr(r, h, file, "blockIO.weight", h->v2 && strcmp(file, "io.weight") == 0 ? "default %lld" : "%lld",
		       v)
		    < 0)
			return -1;
	}
	if ((k = get(b, "leafWeight", "blockIO", &v, r->err)) < 0
	    || (k && wr(r, h, "blkio.leaf_weight", "blockIO.leafWeight", "%lld", v) < 0))
		return -1;
	cleanup_free char *bfqd = xasprintf("%s/blkio.bfq.weight_device", h->dir);
	const char *wdev = access(bfqd, F_OK) == 0 ? "blkio.bfq.weight_device" : "blkio.weight_device";
	return device_list(r, h, json_get(b, "weightDevice"), W "blockIO.weightDevice", "weight", wdev, "weight") < 0
	               || device_list(r, h, json_get(b, "throttleReadBpsDevice"), W "blockIO.throttleReadBpsDevice",
	                              "rate", "blkio.throttle.read_bps_device", "rbps")
	                      < 0
	               || device_list(r, h, json_get(b, "throttleWriteBpsDevice"), W "blockIO.throttleWriteBpsDevice",
	                              "rate", "blkio.throttle.write_bps_device", "wbps")
	                      < 0
	               || device_list(r, h, json_get(b, "throttleReadIOPSDevice"), W "blockIO.throttleReadIOPSDevice",
	                              "rate", "blkio.throttle.read_iops_device", "riops")
	                      < 0
	               || device_list(r, h, json_get(b, "throttleWriteIOPSDevice"), W "blockIO.throttleWriteIOPSDevice",
	                              "rate", "blkio.throttle.write_iops_device", "wiops")
	                      < 0
	           ? -1
	           : 0;
}

static int apply_hugetlb(struct res *r, yajl_val l)
{
	if (l == NULL)
		return 0;
	if (json_expect_array(l, W "hugepageLimits", r->err) < 0)
		return -1;
	for (size_t i = 0; i < l->u.array.len; i++) {
		yajl_val e = l->u.array.values[i];
		cleanup_free char *w = xasprintf("hugepageLimits[%zu]", i);
		cleanup_free char *size = NULL;
		long long limit = 0;
		if (json_read_string(json_get(e, "pageSize"), "pageSize", &size, r->err) < 0
		    || get(e, "limit", w, &limit, r->err) < 0)
			return rune_error_wrap(r->err, W "%s", w);
		if (size == NULL || strspn(size, "0123456789") == 0)
			return rune_error(r->err, EINVAL, W "%s.pageSize: want a size like 2MB or 1GB", w);
		const struct cgroup_hier *h = need(r, "hugetlb", w);
		cleanup_free char *file = xasprintf(h && h->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes", size);
		if (h == NULL || wr(r, h, file, w, "%lld", limit) < 0)
			return -1;
	}
	return 0;
}

static int apply_unified(struct res *r, yajl_val u)
{
	if (u == NULL)
		return 0;
	if (json_expect_object(u, W "unified", r->err) < 0)
		return -1;
	if (u->u.object.len == 0)
		return 0;
	const struct cgroup_hier *h = NULL;
	for (size_t i = 0; i < r->cg->n; i++)
		if (r->cg->h[i].v2)
			h = &r->cg->h[i];
	for (size_t i = 0; i < u->u.object.len; i++) {
		const char *key = u->u.object.keys[i];
		yajl_val v = u->u.object.values[i];
		cleanup_free char *field = xasprintf("unified[\"%s\"]", key);
		if (h == NULL)
			return rune_error(r->err, ENOTSUP, W "%s: this host has no cgroup v2 hierarchy", field);
		if (strchr(key, '/') || key[0] == '.' || !strchr(key, '.'))
			return rune_error(r->err, EINVAL, W "%s: not a cgroup v2 interface file name", field);
		if (!YAJL_IS_STRING(v))
			return rune_error(r->err, EINVAL, W "%s: the value must be a string", field);
		if (wr(r, h, key, field, "%s", v->u.string) < 0)
			return -1;
	}
	return 0;
}

/* Controllers this host does not offer fail only when actually asked for. */
static int apply_network_rdma(struct res *r, yajl_val res)
{
	yajl_val net = json_get(res, "network"), rdma = json_get(res, "rdma");
	long long v;
	int k;
	if (net && json_expect_object(net, W "network", r->err) < 0)
		return -1;
	if (net && (k = get(net, "classID", "network", &v, r->err)) != 0) {
		const struct cgroup_hier *h;
		if (k < 0 || !(h = need(r, "net_cls", "network.classID"))
		    || wr(r, h, "net_cls.classid", "network.classID", "%lld", v) < 0)
			return -1;
	}
	yajl_val prios = net ? json_get(net, "priorities") : NULL;
	for (size_t i = 0; YAJL_IS_ARRAY(prios) && i < prios->u.array.len; i++) {
		yajl_val p = prios->u.array.values[i];
		yajl_val name = json_get(p, "name");
		const struct cgroup_hier *h;
		if (get(p, "priority", "network.priorities", &v, r->err) < 0 || !YAJL_IS_STRING(name)
		    || !(h = need(r, "net_prio", "network.priorities"))
		    || wr(r, h, "net_prio.ifpriomap", "network.priorities", "%s %lld", name->u.string, v) < 0)
			return *r->err
			           ? -1
			           : rune_error(r->err, EINVAL, W "network.priorities[%zu]: want name and priority", i);
	}
	if (rdma && json_expect_object(rdma, W "rdma", r->err) < 0)
		return -1;
	for (size_t i = 0; rdma && i < rdma->u.object.len; i++) {
		const struct cgroup_hier *h = need(r, "rdma", "rdma");
		yajl_val d = rdma->u.object.values[i];
		long long hh = -1, ho = -1;
		if (h == NULL || get(d, "hcaHandles", "rdma", &hh, r->err) < 0
		    || get(d, "hcaObjects", "rdma", &ho, r->err) < 0)
			return -1;
		char b1[32], b2[32];
		if (wr(r, h, "rdma.max", "rdma", "%s hca_handle=%s hca_object=%s", rdma->u.object.keys[i],
		       lim(hh, true, b1, 32), lim(ho, true, b2, 32))
		    < 0)
			return -1;
	}
	return 0;
}

int cgroup_apply_resources(const struct rune_cgroup *cg, yajl_val res, rune_error_t *err)
{
	struct res r = { .cg = cg, .err = err };
	if (res == NULL)
		return 0;
	if (json_expect_object(res, "linux.resources", err) < 0)
		return -1;
	return apply_memory(&r, json_get(res, "memory")) < 0 || apply_cpu(&r, json_get(res, "cpu")) < 0
	               || apply_pids(&r, json_get(res, "pids")) < 0 || apply_blkio(&r, json_get(res, "blockIO")) < 0
	               || apply_hugetlb(&r, json_get(res, "hugepageLimits")) < 0 || apply_network_rdma(&r, res) < 0
	               || apply_unified(&r, json_get(res, "unified")) < 0
	           ? -1
	           : 0;
}
