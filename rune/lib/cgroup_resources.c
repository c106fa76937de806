/* linux.resources onto cgroupfs, v1 and v2: memory, cpu, pids, blockIO,
 * hugepageLimits, network, rdma and the unified map. The values were checked
 * when the config was read (resources.c); here every field either takes
 * effect or fails naming itself and why the host cannot do it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

#define W "linux.resources."

struct res {
	const struct rune_cgroup *cg;
	rune_error_t *err;
};

static const struct cgroup_hier *need(struct res *r, const char *ctrl, const char *field)
{
	const struct cgroup_hier *h = librune_cgroup_find(r->cg, ctrl);
	if (h == NULL)
		rune_error(r->err, ENOTSUP, W "%s: the %s controller is not available on this host", field, ctrl);
	return h;
}

static int wr(struct res *r, const struct cgroup_hier *h, const char *file, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int wr(struct res *r, const struct cgroup_hier *h, const char *file, const char *field, const char *fmt, ...)
{
	va_list ap;
	char *v;
	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	if (v == NULL)
		return rune_error(r->err, ENOMEM, W "%s", field);
	cleanup_free char *val = v;
	cleanup_free char *path = xasprintf("%s/%s", h->dir, file);
	if (access(path, F_OK) < 0)
		return rune_error(r->err, ENOTSUP, W "%s: %s does not exist (not supported by this kernel or host)",
		                  field, path);
	if (librune_cg_write(h->dir, file, val, r->err) < 0)
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

static int memory_v1(struct res *r, const struct cgroup_hier *h, const struct rune_resources *res)
{
	const struct res_int *limit = &res->memory.limit, *swap = &res->memory.swap;
	char b1[32], b2[32];
	/* An unlimited memory limit with no word on swap lifts the memory+swap
	 * limit too (as runc does): the old one would stay below it. */
	struct res_int unlimited = { true, -1 };
	cleanup_free char *memsw = xasprintf("%s/memory.memsw.limit_in_bytes", h->dir);
	if (limit->set && limit->v < 0 && !swap->set && access(memsw, F_OK) == 0)
		swap = &unlimited;
	/* memory.memsw must stay >= memory.limit: order the writes so each one is valid. */
	if (limit->set && swap->set) {
		rune_error_t e = NULL;
		bool swap_first =
		    librune_cg_write(h->dir, "memory.memsw.limit_in_bytes", lim(swap->v, false, b2, 32), &e) == 0;
		rune_error_release(&e);
		if (wr(r, h, "memory.limit_in_bytes", "memory.limit", "%s", lim(limit->v, false, b1, 32)) < 0
		    || (!swap_first
		        && wr(r, h, "memory.memsw.limit_in_bytes", "memory.swap", "%s", lim(swap->v, false, b2, 32))
		               < 0))
			return -1;
	} else if (limit->set) {
		if (wr(r, h, "memory.limit_in_bytes", "memory.limit", "%s", lim(limit->v, false, b1, 32)) < 0)
			return -1;
	} else if (swap->set) {
		if (wr(r, h, "memory.memsw.limit_in_bytes", "memory.swap", "%s", lim(swap->v, false, b2, 32)) < 0)
			return -1;
	}
	const struct res_int *resv = &res->memory.reservation, *tcp = &res->memory.kernel_tcp;
	if (resv->set
	    && wr(r, h, "memory.soft_limit_in_bytes", "memory.reservation", "%s", lim(resv->v, false, b1, 32)) < 0)
		return -1;
	if (tcp->set
	    && wr(r, h, "memory.kmem.tcp.limit_in_bytes", "memory.kernelTCP", "%s", lim(tcp->v, false, b1, 32)) < 0)
		return -1;
	if (res->memory.swappiness.set
	    && wr(r, h, "memory.swappiness", "memory.swappiness", "%lld", (long long) res->memory.swappiness.v) < 0)
		return -1;
	if (res->memory.kernel.set)
		log_debug(W "memory.kernel is deprecated and ignored (as runc does)");
	if (res->memory.disable_oom_killer && wr(r, h, "memory.oom_control", "memory.disableOOMKiller", "1") < 0)
		return -1;
	return 0;
}

static int memory_v2(struct res *r, const struct cgroup_hier *h, const struct rune_resources *res)
{
	const struct res_int *limit = &res->memory.limit, *swap = &res->memory.swap;
	char b[32];
	if (res->memory.disable_oom_killer)
		return rune_error(r->err, ENOTSUP, W "memory.disableOOMKiller: cgroup v2 has no such knob");
	if (res->memory.swappiness.set)
		return rune_error(r->err, ENOTSUP, W "memory.swappiness: cgroup v2 has no per-cgroup swappiness");
	if (res->memory.kernel_tcp.set)
		return rune_error(r->err, ENOTSUP, W "memory.kernelTCP: cgroup v2 has no TCP memory limit");
	if (limit->set && res->memory.check_before_update && limit->v > 0) {
		cleanup_free char *cur = librune_cg_read(h->dir, "memory.current");
		if (cur && strtoll(cur, NULL, 10) > limit->v)
			return rune_error(r->err, EBUSY, W "memory.limit: %lld is below the current usage %lld",
			                  (long long) limit->v, strtoll(cur, NULL, 10));
	}
	if (limit->set && wr(r, h, "memory.max", "memory.limit", "%s", lim(limit->v, true, b, 32)) < 0)
		return -1;
	/* The spec's swap is memory+swap; v2 counts swap alone. */
	if (swap->set) {
		bool limited = limit->set && limit->v >= 0;
		if (swap->v >= 0 && limited && swap->v < limit->v)
			return rune_error(r->err, EINVAL,
			                  W "memory.swap: %lld is below memory.limit %lld (swap is memory+swap)",
			                  (long long) swap->v, (long long) limit->v);
		long long s = swap->v < 0 || !limited ? swap->v : swap->v - limit->v;
		if (wr(r, h, "memory.swap.max", "memory.swap", "%s", lim(s, true, b, 32)) < 0)
			return -1;
	}
	const struct res_int *resv = &res->memory.reservation;
	if (resv->set && wr(r, h, "memory.low", "memory.reservation", "%s", lim(resv->v, true, b, 32)) < 0)
		return -1;
	return 0;
}

static int apply_memory(struct res *r, const struct rune_resources *res)
{
	if (!res->memory.any)
		return 0;
	const struct cgroup_hier *h = need(r, "memory", "memory");
	if (h == NULL)
		return -1;
	return h->v2 ? memory_v2(r, h, res) : memory_v1(r, h, res);
}

static int cpu_bandwidth(struct res *r, const struct cgroup_hier *h, const struct rune_resources *res)
{
	const struct res_int *quota = &res->cpu.quota, *period = &res->cpu.period, *burst = &res->cpu.burst;
	if (h->v2) {
		char b[32];
		cleanup_free char *cur = librune_cg_read(h->dir, "cpu.max");
		long long cur_period = cur && strchr(cur, ' ') ? strtoll(strchr(cur, ' ') + 1, NULL, 10) : 100000;
		if ((quota->set || period->set)
		    && wr(r, h, "cpu.max", "cpu.quota", "%s %lld", quota->set ? lim(quota->v, true, b, 32) : "max",
		          period->set ? (long long) period->v : cur_period)
		           < 0)
			return -1;
		return burst->set ? wr(r, h, "cpu.max.burst", "cpu.burst", "%lld", (long long) burst->v) : 0;
	}
	/* A period below the current one can make old quota / new period exceed
	 * the parent's limit (EINVAL): then the quota goes first, the period after. */
	bool period_after = false;
	if (period->set) {
		rune_error_t e = NULL;
		char v[32];
		snprintf(v, sizeof(v), "%lld", (long long) period->v);
		if (librune_cg_write(h->dir, "cpu.cfs_period_us", v, &e) < 0) {
			period_after = quota->set && e->status == EINVAL;
			if (!period_after) {
				rune_error_move(r->err, &e);
				return rune_error_wrap(r->err, W "cpu.period");
			}
		}
		rune_error_release(&e);
	}
	if (quota->set
	    && wr(r, h, "cpu.cfs_quota_us", "cpu.quota", "%lld", quota->v < 0 ? -1LL : (long long) quota->v) < 0)
		return -1;
	if (period_after && wr(r, h, "cpu.cfs_period_us", "cpu.period", "%lld", (long long) period->v) < 0)
		return -1;
	return burst->set ? wr(r, h, "cpu.cfs_burst_us", "cpu.burst", "%lld", (long long) burst->v) : 0;
}

static int cpu_realtime(struct res *r, const struct rune_resources *res)
{
	const struct res_int *rt = &res->cpu.realtime_runtime, *rp = &res->cpu.realtime_period;
	const struct cgroup_hier *h;
	if (!(rt->set && rt->v) && !(rp->set && rp->v))
		return 0;
	if (!(h = need(r, "cpu", "cpu.realtimeRuntime")))
		return -1;
	if (h->v2)
		return rune_error(r->err, ENOTSUP,
		                  W "cpu.realtimeRuntime: cgroup v2 has no realtime scheduling limits");
	if (rp->set && wr(r, h, "cpu.rt_period_us", "cpu.realtimePeriod", "%lld", (long long) rp->v) < 0)
		return -1;
	return rt->set ? wr(r, h, "cpu.rt_runtime_us", "cpu.realtimeRuntime", "%lld", (long long) rt->v) : 0;
}

static int apply_cpu(struct res *r, const struct rune_resources *res)
{
	const struct cgroup_hier *h = NULL;
	const struct res_int *shares = &res->cpu.shares;
	if (shares->set && shares->v > 0) {
		if (!(h = need(r, "cpu", "cpu.shares")))
			return -1;
		/* v2 weight from v1 shares, as runc and crun convert them. */
		long long v = shares->v;
		if (h->v2 ? wr(r, h, "cpu.weight", "cpu.shares", "%lld", 1 + ((v - 2) * 9999) / 262142)
		          : wr(r, h, "cpu.shares", "cpu.shares", "%lld", v))
			return -1;
	}
	if (res->cpu.quota.set || res->cpu.period.set || res->cpu.burst.set) {
		if (!(h = need(r, "cpu", "cpu.quota")) || cpu_bandwidth(r, h, res) < 0)
			return -1;
	}
	if (cpu_realtime(r, res) < 0)
		return -1;
	if (res->cpu.idle.set
	    && (!(h = need(r, "cpu", "cpu.idle"))
	        || wr(r, h, "cpu.idle", "cpu.idle", "%lld", (long long) res->cpu.idle.v) < 0))
		return -1;
	if (res->cpu.cpus && *res->cpu.cpus
	    && (!(h = need(r, "cpuset", "cpu.cpus")) || wr(r, h, "cpuset.cpus", "cpu.cpus", "%s", res->cpu.cpus) < 0))
		return -1;
	if (res->cpu.mems && *res->cpu.mems
	    && (!(h = need(r, "cpuset", "cpu.mems")) || wr(r, h, "cpuset.mems", "cpu.mems", "%s", res->cpu.mems) < 0))
		return -1;
	return 0;
}

static int apply_pids(struct res *r, const struct rune_resources *res)
{
	const struct cgroup_hier *h;
	long long v = res->pids_limit.v;
	if (!res->pids_limit.set)
		return 0;
	if (!(h = need(r, "pids", "pids.limit")))
		return -1;
	return v <= 0 ? wr(r, h, "pids.max", "pids.limit", "max") : wr(r, h, "pids.max", "pids.limit", "%lld", v);
}

/* weightDevice or a throttle list onto the v1 file or v2 io.max / io.weight. */
static int device_list(struct res *r, const struct cgroup_hier *h, const struct rune_blkio_device *list, size_t n,
                       const char *field, const char *v1file, const char *v2key)
{
	for (size_t i = 0; i < n; i++) {
		const struct rune_blkio_device *d = &list[i];
		cleanup_free char *w = xasprintf("blockIO.%s[%zu]", field, i);
		long long maj = d->major, min = d->minor, val = d->value;
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

static int apply_blkio(struct res *r, const struct rune_resources *res)
{
	static const char *const v1files[THROTTLES] = { "blkio.throttle.read_bps_device",
		                                        "blkio.throttle.write_bps_device",
		                                        "blkio.throttle.read_iops_device",
		                                        "blkio.throttle.write_iops_device" };
	static const char *const v2keys[THROTTLES] = { "rbps", "wbps", "riops", "wiops" };
	if (!res->blkio.any)
		return 0;
	const struct cgroup_hier *h = need(r, "blkio", "blockIO");
	if (h == NULL)
		return -1;
	if (res->blkio.weight.set) {
		cleanup_free char *bfq = xasprintf("%s/%s", h->dir, h->v2 ? "io.bfq.weight" : "blkio.bfq.weight");
		const char *file = access(bfq, F_OK) == 0 ? strrchr(bfq, '/') + 1
		                   : h->v2                ? "io.weight"
		                                          : "blkio.weight";
		bool v2_default = h->v2 && strcmp(file, "io.weight") == 0;
		if (wr(r, h, file, "blockIO.weight", v2_default ? "default %lld" : "%lld",
		       (long long) res->blkio.weight.v)
		    < 0)
			return -1;
	}
	if (res->blkio.leaf_weight.set
	    && wr(r, h, "blkio.leaf_weight", "blockIO.leafWeight", "%lld", (long long) res->blkio.leaf_weight.v) < 0)
		return -1;
	cleanup_free char *bfqd = xasprintf("%s/blkio.bfq.weight_device", h->dir);
	const char *wdev = access(bfqd, F_OK) == 0 ? "blkio.bfq.weight_device" : "blkio.weight_device";
	if (device_list(r, h, res->blkio.weight_device, res->blkio.n_weight_device, "weightDevice", wdev, "weight") < 0)
		return -1;
	for (int t = 0; t < THROTTLES; t++)
		if (device_list(r, h, res->blkio.throttle[t], res->blkio.n_throttle[t], librune_blkio_throttle_names[t],
		                v1files[t], v2keys[t])
		    < 0)
			return -1;
	return 0;
}

static int apply_hugetlb(struct res *r, const struct rune_resources *res)
{
	for (size_t i = 0; i < res->n_hugepages; i++) {
		const struct rune_hugepage_limit *l = &res->hugepages[i];
		cleanup_free char *w = xasprintf("hugepageLimits[%zu]", i);
		const struct cgroup_hier *h = need(r, "hugetlb", w);
		if (h == NULL)
			return -1;
		cleanup_free char *file =
		    xasprintf(h->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes", l->page_size);
		if (wr(r, h, file, w, "%lld", (long long) l->limit) < 0)
			return -1;
	}
	return 0;
}

/* The cgroup v2 hierarchy of a pure v2 host, or NULL. */
static const struct cgroup_hier *unified_hierarchy(const struct rune_cgroup *cg)
{
	for (size_t i = 0; cg && i < cg->n; i++)
		if (!cg->h[i].v2)
			return NULL;
	return cg && cg->n ? &cg->h[0] : NULL;
}

static int apply_unified(struct res *r, const struct rune_resources *res)
{
	if (res->unified_keys == NULL || res->unified_keys[0] == NULL)
		return 0;
	const struct cgroup_hier *h = unified_hierarchy(r->cg);
	if (h == NULL)
		return rune_error(r->err, ENOTSUP, "invalid configuration: " W "unified needs a cgroup v2 host");
	for (size_t i = 0; res->unified_keys[i]; i++) {
		cleanup_free char *field = xasprintf("unified[\"%s\"]", res->unified_keys[i]);
		if (wr(r, h, res->unified_keys[i], field, "%s", res->unified_values[i]) < 0)
			return -1;
	}
	return 0;
}

/* Controllers this host does not offer fail only when actually asked for. */
static int apply_network_rdma(struct res *r, const struct rune_resources *res)
{
	const struct cgroup_hier *h;
	char b1[32], b2[32];
	if (res->network.class_id.set
	    && (!(h = need(r, "net_cls", "network.classID"))
	        || wr(r, h, "net_cls.classid", "network.classID", "%lld", (long long) res->network.class_id.v) < 0))
		return -1;
	for (size_t i = 0; i < res->network.n_priorities; i++) {
		const struct rune_net_priority *p = &res->network.priorities[i];
		if (!(h = need(r, "net_prio", "network.priorities"))
		    || wr(r, h, "net_prio.ifpriomap", "network.priorities", "%s %lld", p->name, (long long) p->priority)
		           < 0)
			return -1;
	}
	for (size_t i = 0; i < res->n_rdma; i++) {
		const struct rune_rdma_limit *l = &res->rdma[i];
		long long hh = l->hca_handles.set ? l->hca_handles.v : -1,
		          ho = l->hca_objects.set ? l->hca_objects.v : -1;
		if (!(h = need(r, "rdma", "rdma"))
		    || wr(r, h, "rdma.max", "rdma", "%s hca_handle=%s hca_object=%s", l->device, lim(hh, true, b1, 32),
		          lim(ho, true, b2, 32))
		           < 0)
			return -1;
	}
	return 0;
}

int librune_cgroup_apply_resources(const struct rune_cgroup *cg, const struct rune_resources *res, rune_error_t *err)
{
	struct res r = { .cg = cg, .err = err };
	if (res == NULL)
		return 0;
	if (apply_memory(&r, res) < 0 || apply_cpu(&r, res) < 0 || apply_pids(&r, res) < 0 || apply_blkio(&r, res) < 0
	    || apply_hugetlb(&r, res) < 0 || apply_network_rdma(&r, res) < 0 || apply_unified(&r, res) < 0)
		return -1;
	return 0;
}

int librune_cgroup_check_resources(const struct rune_resources *res, rune_error_t *err)
{
	struct rune_cgroup *host = NULL;
	bool any = res
	           && (res->memory.any || res->pids_limit.set || res->blkio.any || res->n_hugepages
	               || res->network.class_id.set || res->network.n_priorities || res->n_rdma
	               || (res->unified_keys && res->unified_keys[0]));
	if (!any)
		return 0; /* nothing that needs a controller to be there (devices are checked when set) */
	if (librune_cgroup_hierarchies(&host, err) < 0)
		return -1;
	struct res r = { .cg = host, .err = err };
	/* The controllers asked for, checked on the hierarchies this host has;
	 * what each controller's files accept is learnt when they are written. */
	int rc = 0;
	if ((res->memory.any && !need(&r, "memory", "memory"))
	    || (res->pids_limit.set && !need(&r, "pids", "pids.limit"))
	    || (res->blkio.any && !need(&r, "blkio", "blockIO"))
	    || (res->n_hugepages && !need(&r, "hugetlb", "hugepageLimits[0]"))
	    || (res->network.class_id.set && !need(&r, "net_cls", "network.classID"))
	    || (res->network.n_priorities && !need(&r, "net_prio", "network.priorities"))
	    || (res->n_rdma && !need(&r, "rdma", "rdma")))
		rc = -1;
	else if (res->unified_keys && res->unified_keys[0] && unified_hierarchy(host) == NULL)
		rc = rune_error(err, ENOTSUP,
		                "invalid configuration: " W
		                "unified needs a cgroup v2 host (this host's controllers are "
		                "on cgroup v1)");
	librune_cgroup_free(host);
	return rc;
}
