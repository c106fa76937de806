#include "resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "log.h"
#include "util.h"

const char *const librune_blkio_throttle_names[THROTTLES] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
	                                                      "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };

/* obj.key as an integer: null is absent; beyond int64 is "unlimited". */
static int read_int(yajl_val obj, const char *key, const char *where, struct res_int *out, rune_error_t *err)
{
	yajl_val v = rune_json_get(obj, key);
	out->set = false;
	if (v == NULL || YAJL_IS_NULL(v))
		return 0;
	if (!YAJL_IS_NUMBER(v))
		return rune_error(err, EINVAL, "%s.%s: not a number", where, key);
	if (YAJL_IS_INTEGER(v))
		out->v = YAJL_GET_INTEGER(v);
	else if (v->u.number.flags & YAJL_NUMBER_DOUBLE_VALID && strpbrk(v->u.number.r, ".eE"))
		return rune_error(err, EINVAL, "%s.%s: %s is not an integer", where, key, v->u.number.r);
	else
		out->v = -1; /* an unsigned "unlimited" from some clients */
	out->set = true;
	return 0;
}

/* An integer that must be given, in an element of a list. */
static int read_required(yajl_val obj, const char *key, const char *where, int64_t *out, rune_error_t *err)
{
	struct res_int r;
	if (read_int(obj, key, where, &r, err) < 0)
		return -1;
	if (!r.set)
		return rune_error(err, EINVAL, "%s.%s: missing", where, key);
	*out = r.v;
	return 0;
}

static int parse_memory(yajl_val m, const char *where, struct rune_resources *r, rune_error_t *err)
{
	if (rune_json_expect_object(m, where, err) < 0)
		return -1;
	cleanup_free char *wo = xasprintf("%s.disableOOMKiller", where), *wc = xasprintf("%s.checkBeforeUpdate", where);
	if (read_int(m, "limit", where, &r->memory.limit, err) < 0
	    || read_int(m, "reservation", where, &r->memory.reservation, err) < 0
	    || read_int(m, "swap", where, &r->memory.swap, err) < 0
	    || read_int(m, "kernel", where, &r->memory.kernel, err) < 0
	    || read_int(m, "kernelTCP", where, &r->memory.kernel_tcp, err) < 0
	    || read_int(m, "swappiness", where, &r->memory.swappiness, err) < 0
	    || rune_json_read_bool(rune_json_get(m, "disableOOMKiller"), wo, &r->memory.disable_oom_killer, err) < 0
	    || rune_json_read_bool(rune_json_get(m, "checkBeforeUpdate"), wc, &r->memory.check_before_update, err) < 0)
		return -1;
	const struct res_int *s = &r->memory.swappiness;
	if (s->set && (s->v < 0 || s->v > 100))
		return rune_error(err, EINVAL, "%s.swappiness: %lld, want 0 to 100", where, (long long) s->v);
	r->memory.any = m && m->u.object.len > 0;
	return 0;
}

static int parse_cpu(yajl_val c, const char *where, struct rune_resources *r, rune_error_t *err)
{
	cleanup_free char *wc = xasprintf("%s.cpus", where), *wm = xasprintf("%s.mems", where);
	if (rune_json_expect_object(c, where, err) < 0 || read_int(c, "shares", where, &r->cpu.shares, err) < 0
	    || read_int(c, "quota", where, &r->cpu.quota, err) < 0
	    || read_int(c, "period", where, &r->cpu.period, err) < 0
	    || read_int(c, "burst", where, &r->cpu.burst, err) < 0
	    || read_int(c, "realtimeRuntime", where, &r->cpu.realtime_runtime, err) < 0
	    || read_int(c, "realtimePeriod", where, &r->cpu.realtime_period, err) < 0
	    || read_int(c, "idle", where, &r->cpu.idle, err) < 0
	    || rune_json_read_string(rune_json_get(c, "cpus"), wc, &r->cpu.cpus, err) < 0
	    || rune_json_read_string(rune_json_get(c, "mems"), wm, &r->cpu.mems, err) < 0)
		return -1;
	return 0;
}

/* weightDevice and the throttles: [{major, minor, weight|rate}]. */
static int parse_blkio_devices(yajl_val list, const char *where, const char *key, struct rune_blkio_device **out,
                               size_t *n, rune_error_t *err)
{
	if (list == NULL)
		return 0;
	if (rune_json_expect_array(list, where, err) < 0)
		return -1;
	*out = xcalloc(list->u.array.len + 1, sizeof(**out));
	for (size_t i = 0; i < list->u.array.len; i++) {
		yajl_val d = list->u.array.values[i];
		cleanup_free char *w = xasprintf("%s[%zu]", where, i);
		struct rune_blkio_device *b = &(*out)[(*n)++];
		if (rune_json_expect_object(d, w, err) < 0 || read_required(d, "major", w, &b->major, err) < 0
		    || read_required(d, "minor", w, &b->minor, err) < 0 || read_required(d, key, w, &b->value, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_blkio(yajl_val b, const char *where, struct rune_resources *r, rune_error_t *err)
{
	if (rune_json_expect_object(b, where, err) < 0 || read_int(b, "weight", where, &r->blkio.weight, err) < 0
	    || read_int(b, "leafWeight", where, &r->blkio.leaf_weight, err) < 0)
		return -1;
	cleanup_free char *ww = xasprintf("%s.weightDevice", where);
	if (parse_blkio_devices(rune_json_get(b, "weightDevice"), ww, "weight", &r->blkio.weight_device,
	                        &r->blkio.n_weight_device, err)
	    < 0)
		return -1;
	for (int t = 0; t < THROTTLES; t++) {
		cleanup_free char *w = xasprintf("%s.%s", where, librune_blkio_throttle_names[t]);
		if (parse_blkio_devices(rune_json_get(b, librune_blkio_throttle_names[t]), w, "rate",
		                        &r->blkio.throttle[t], &r->blkio.n_throttle[t], err)
		    < 0)
			return -1;
	}
	r->blkio.any = b && b->u.object.len > 0;
	return 0;
}

static int parse_hugepages(yajl_val l, const char *where, struct rune_resources *r, rune_error_t *err)
{
	if (l == NULL)
		return 0;
	if (rune_json_expect_array(l, where, err) < 0)
		return -1;
	r->hugepages = xcalloc(l->u.array.len + 1, sizeof(*r->hugepages));
	for (size_t i = 0; i < l->u.array.len; i++) {
		yajl_val e = l->u.array.values[i];
		struct rune_hugepage_limit *h = &r->hugepages[r->n_hugepages++];
		cleanup_free char *w = xasprintf("%s[%zu]", where, i), *wp = xasprintf("%s[%zu].pageSize", where, i);
		if (rune_json_expect_object(e, w, err) < 0
		    || rune_json_read_string(rune_json_get(e, "pageSize"), wp, &h->page_size, err) < 0
		    || read_required(e, "limit", w, &h->limit, err) < 0)
			return -1;
		if (h->page_size == NULL || strspn(h->page_size, "0123456789") == 0
		    || strspn(h->page_size, "0123456789KMGBkmgb") != strlen(h->page_size))
			return rune_error(err, EINVAL, "%s: \"%s\", want a size like 2MB or 1GB", wp,
			                  h->page_size ? h->page_size : "");
	}
	return 0;
}

static int parse_network(yajl_val n, const char *where, struct rune_resources *r, rune_error_t *err)
{
	if (rune_json_expect_object(n, where, err) < 0 || read_int(n, "classID", where, &r->network.class_id, err) < 0)
		return -1;
	yajl_val prios = rune_json_get(n, "priorities");
	cleanup_free char *wp = xasprintf("%s.priorities", where);
	if (prios == NULL)
		return 0;
	if (rune_json_expect_array(prios, wp, err) < 0)
		return -1;
	r->network.priorities = xcalloc(prios->u.array.len + 1, sizeof(*r->network.priorities));
	for (size_t i = 0; i < prios->u.array.len; i++) {
		yajl_val p = prios->u.array.values[i];
		struct rune_net_priority *np = &r->network.priorities[r->network.n_priorities++];
		cleanup_free char *w = xasprintf("%s[%zu]", wp, i), *wn = xasprintf("%s[%zu].name", wp, i);
		if (rune_json_expect_object(p, w, err) < 0
		    || rune_json_read_string(rune_json_get(p, "name"), wn, &np->name, err) < 0
		    || read_required(p, "priority", w, &np->priority, err) < 0)
			return -1;
		if (np->name == NULL || np->name[0] == '\0')
			return rune_error(err, EINVAL, "%s: missing", wn);
	}
	return 0;
}

static int parse_rdma(yajl_val o, const char *where, struct rune_resources *r, rune_error_t *err)
{
	if (o == NULL)
		return 0;
	if (rune_json_expect_object(o, where, err) < 0)
		return -1;
	r->rdma = xcalloc(o->u.object.len + 1, sizeof(*r->rdma));
	for (size_t i = 0; i < o->u.object.len; i++) {
		struct rune_rdma_limit *l = &r->rdma[r->n_rdma++];
		cleanup_free char *w = xasprintf("%s[\"%s\"]", where, o->u.object.keys[i]);
		l->device = xstrdup(o->u.object.keys[i]);
		if (rune_json_expect_object(o->u.object.values[i], w, err) < 0
		    || read_int(o->u.object.values[i], "hcaHandles", w, &l->hca_handles, err) < 0
		    || read_int(o->u.object.values[i], "hcaObjects", w, &l->hca_objects, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_unified(yajl_val u, const char *where, struct rune_resources *r, rune_error_t *err)
{
	if (u == NULL)
		return 0;
	if (rune_json_expect_object(u, where, err) < 0)
		return -1;
	size_t n = u->u.object.len;
	r->unified_keys = xcalloc(n + 1, sizeof(char *));
	r->unified_values = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *key = u->u.object.keys[i];
		cleanup_free char *w = xasprintf("%s[\"%s\"]", where, key);
		if (strchr(key, '/') || key[0] == '.' || !strchr(key, '.'))
			return rune_error(err, EINVAL, "%s: not a cgroup v2 interface file name", w);
		if (!YAJL_IS_STRING(u->u.object.values[i]))
			return rune_error(err, EINVAL, "%s: the value must be a string", w);
		r->unified_keys[i] = xstrdup(key);
		r->unified_values[i] = xstrdup(u->u.object.values[i]->u.string);
	}
	return 0;
}

static int parse_device_rule(yajl_val v, const char *w, struct rune_device_rule *d, rune_error_t *err)
{
	cleanup_free char *type = NULL, *access = NULL;
	cleanup_free char *wa = xasprintf("%s.allow", w), *wt = xasprintf("%s.type", w);
	cleanup_free char *wacc = xasprintf("%s.access", w);
	struct res_int maj, min;
	if (rune_json_expect_object(v, w, err) < 0
	    || rune_json_read_bool(rune_json_get(v, "allow"), wa, &d->allow, err) < 0
	    || rune_json_read_string(rune_json_get(v, "type"), wt, &type, err) < 0
	    || read_int(v, "major", w, &maj, err) < 0 || read_int(v, "minor", w, &min, err) < 0
	    || rune_json_read_string(rune_json_get(v, "access"), wacc, &access, err) < 0)
		return -1;
	if (rune_json_get(v, "allow") == NULL)
		return rune_error(err, EINVAL, "%s: missing", wa);
	d->type = type && *type ? type[0] : 'a';
	if ((d->type != 'a' && d->type != 'c' && d->type != 'b') || (type && strlen(type) > 1))
		return rune_error(err, EINVAL, "%s: \"%s\", want a, c or b", wt, type);
	d->major = maj.set ? maj.v : -1;
	d->minor = min.set ? min.v : -1;
	d->access = 0;
	bool unknown = false;
	for (const char *p = access && *access ? access : "rwm"; *p; p++) {
		if (*p == 'r')
			d->access |= DEV_ACC_READ;
		else if (*p == 'w')
			d->access |= DEV_ACC_WRITE;
		else if (*p == 'm')
			d->access |= DEV_ACC_MKNOD;
		else
			unknown = true;
	}
	/* Letters other than r, w and m are ignored, as runc ignores them (its
	 * own tests write "rwa"); a rule left with no access at all is refused. */
	if (d->access == 0)
		return rune_error(err, EINVAL, "%s: \"%s\", want letters of rwm", wacc, access);
	if (unknown)
		log_debug("%s: \"%s\": only r, w and m mean something; the rest is ignored", wacc, access);
	return 0;
}

static int parse_devices(yajl_val l, const char *where, struct rune_resources *r, rune_error_t *err)
{
	if (l == NULL)
		return 0;
	if (rune_json_expect_array(l, where, err) < 0)
		return -1;
	r->has_devices = true;
	r->devices = xcalloc(l->u.array.len + 1, sizeof(*r->devices));
	for (size_t i = 0; i < l->u.array.len; i++) {
		cleanup_free char *w = xasprintf("%s[%zu]", where, i);
		if (parse_device_rule(l->u.array.values[i], w, &r->devices[r->n_devices++], err) < 0)
			return -1;
	}
	return 0;
}

#define SUB(field) (free(w), w = xasprintf("%s.%s", where, field))

int librune_resources_parse(yajl_val v, const char *where, struct rune_resources **out, rune_error_t *err)
{
	struct rune_resources *r;
	cleanup_free char *w = NULL;

	*out = NULL;
	if (v == NULL)
		return 0;
	if (rune_json_expect_object(v, where, err) < 0)
		return -1;
	r = xcalloc(1, sizeof(*r));
	if (parse_memory(rune_json_get(v, "memory"), SUB("memory"), r, err) < 0
	    || parse_cpu(rune_json_get(v, "cpu"), SUB("cpu"), r, err) < 0
	    || rune_json_expect_object(rune_json_get(v, "pids"), SUB("pids"), err) < 0
	    || read_int(rune_json_get(v, "pids"), "limit", w, &r->pids_limit, err) < 0
	    || parse_blkio(rune_json_get(v, "blockIO"), SUB("blockIO"), r, err) < 0
	    || parse_hugepages(rune_json_get(v, "hugepageLimits"), SUB("hugepageLimits"), r, err) < 0
	    || parse_network(rune_json_get(v, "network"), SUB("network"), r, err) < 0
	    || parse_rdma(rune_json_get(v, "rdma"), SUB("rdma"), r, err) < 0
	    || parse_unified(rune_json_get(v, "unified"), SUB("unified"), r, err) < 0
	    || parse_devices(rune_json_get(v, "devices"), SUB("devices"), r, err) < 0) {
		librune_resources_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void librune_resources_free(struct rune_resources *r)
{
	if (r == NULL)
		return;
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->blkio.weight_device);
	for (int t = 0; t < THROTTLES; t++)
		free(r->blkio.throttle[t]);
	for (size_t i = 0; i < r->n_hugepages; i++)
		free(r->hugepages[i].page_size);
	free(r->hugepages);
	for (size_t i = 0; i < r->network.n_priorities; i++)
		free(r->network.priorities[i].name);
	free(r->network.priorities);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	cleanup_strvp(&r->unified_keys);
	cleanup_strvp(&r->unified_values);
	free(r->devices);
	free(r);
}
