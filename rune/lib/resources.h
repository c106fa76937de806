/* linux.resources (and the LinuxResources document `update` takes) as C
 * structures, parsed when config.json is read: a wrong type or value fails
 * naming its field before any process or cgroup exists. What the host can
 * honour is decided later, by the cgroup code (cgroup_resources.c). */
#ifndef RUNE_RESOURCES_H
#define RUNE_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "error.h"

/* An integer field: absent, or a value; -1 means unlimited (also for the
 * numbers beyond int64 some clients send for "unlimited"). */
struct res_int {
	bool set;
	int64_t v;
};

/* Access bits of a device rule, as the devices controller has them. */
enum { DEV_ACC_MKNOD = 1, DEV_ACC_READ = 2, DEV_ACC_WRITE = 4, DEV_ACC_ALL = 7 };

struct rune_device_rule {
	bool allow;
	char type;            /* 'a', 'c', 'b' */
	int64_t major, minor; /* -1: any */
	unsigned access;      /* DEV_ACC_* */
};

struct rune_blkio_device {
	int64_t major, minor, value; /* value: a weight or a rate */
};

enum blkio_throttle { THROTTLE_READ_BPS, THROTTLE_WRITE_BPS, THROTTLE_READ_IOPS, THROTTLE_WRITE_IOPS, THROTTLES };

struct rune_resources {
	struct {
		bool any; /* a field is present: the memory controller is needed */
		struct res_int limit, reservation, swap, kernel, kernel_tcp, swappiness;
		bool disable_oom_killer, check_before_update;
	} memory;
	struct {
		struct res_int shares, quota, period, burst, realtime_runtime, realtime_period, idle;
		char *cpus, *mems; /* NULL or "" when not asked */
	} cpu;
	struct res_int pids_limit;
	struct {
		bool any;
		struct res_int weight, leaf_weight;
		struct rune_blkio_device *weight_device, *throttle[THROTTLES];
		size_t n_weight_device, n_throttle[THROTTLES];
	} blkio;
	struct rune_hugepage_limit {
		char *page_size; /* "2MB", "1GB" */
		int64_t limit;
	} * hugepages;
	size_t n_hugepages;
	struct {
		struct res_int class_id;
		struct rune_net_priority {
			char *name;
			int64_t priority;
		} * priorities;
		size_t n_priorities;
	} network;
	struct rune_rdma_limit {
		char *device;
		struct res_int hca_handles, hca_objects;
	} * rdma;
	size_t n_rdma;
	char **unified_keys, **unified_values; /* NULL-terminated, same length */
	bool has_devices;                      /* devices given: the controller is programmed */
	struct rune_device_rule *devices;
	size_t n_devices;
};

/* Parse v (NULL: *out stays NULL); where names it in errors ("linux.resources"). */
int librune_resources_parse(yajl_val v, const char *where, struct rune_resources **out, rune_error_t *err);
void librune_resources_free(struct rune_resources *r);
/* Names of the blockIO throttle lists, in enum blkio_throttle order. */
extern const char *const librune_blkio_throttle_names[THROTTLES];

#endif
