/* The devices controller: linux.resources.devices, the devices every
 * container gets, and the nodes of linux.devices — as the v1 allow/deny
 * lists, or on v2 as an eBPF program attached to the cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup.h"
#include "cleanup.h"
#include "oci_config.h"
#include "util.h"

/* The kernel's access bits are the ones resources.h names. */
_Static_assert((int) DEV_ACC_MKNOD == (int) BPF_DEVCG_ACC_MKNOD && (int) DEV_ACC_READ == (int) BPF_DEVCG_ACC_READ
                   && (int) DEV_ACC_WRITE == (int) BPF_DEVCG_ACC_WRITE,
               "device access bits");

/* The devices every container may use, as runc allows them; one whose path
 * linux.devices names again gives way to that entry (which the rules of
 * linux.resources.devices then govern, as with runc). */
static const struct {
	const char *path;
	struct rune_device_rule rule;
} defaults[] = {
	{ NULL, { true, 'c', -1, -1, DEV_ACC_MKNOD } },    { NULL, { true, 'b', -1, -1, DEV_ACC_MKNOD } },
	{ "/dev/null", { true, 'c', 1, 3, DEV_ACC_ALL } }, { "/dev/random", { true, 'c', 1, 8, DEV_ACC_ALL } },
	{ "/dev/full", { true, 'c', 1, 7, DEV_ACC_ALL } }, { "/dev/tty", { true, 'c', 5, 0, DEV_ACC_ALL } },
	{ "/dev/zero", { true, 'c', 1, 5, DEV_ACC_ALL } }, { "/dev/urandom", { true, 'c', 1, 9, DEV_ACC_ALL } },
	{ NULL, { true, 'c', 136, -1, DEV_ACC_ALL } }, /* /dev/pts/N */
	{ NULL, { true, 'c', 5, 2, DEV_ACC_ALL } },    /* /dev/ptmx */
	{ NULL, { true, 'c', 10, 200, DEV_ACC_ALL } }, /* tun/tap */
};

static void format_rule(const struct rune_device_rule *d, char *buf, size_t n)
{
	char maj[24] = "*", min[24] = "*";
	if (d->major >= 0)
		snprintf(maj, sizeof(maj), "%lld", (long long) d->major);
	if (d->minor >= 0)
		snprintf(min, sizeof(min), "%lld", (long long) d->minor);
	if (d->type == 'a') {
		snprintf(buf, n, "a");
		return;
	}
	snprintf(buf, n, "%c %s:%s %s%s%s", d->type, maj, min, d->access & DEV_ACC_READ ? "r" : "",
	         d->access & DEV_ACC_WRITE ? "w" : "", d->access & DEV_ACC_MKNOD ? "m" : "");
}

static int apply_v1(const struct cgroup_hier *h, const struct rune_device_rule *rules, size_t n, rune_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		char line[96];
		format_rule(&rules[i], line, sizeof(line));
		if (librune_cg_write(h->dir, rules[i].allow ? "devices.allow" : "devices.deny", line, err) < 0)
			return rune_error_wrap(err, "devices cgroup");
	}
	return 0;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* One rule: checks that jump to the next rule on mismatch, then the verdict. */
static size_t emit_rule(struct bpf_insn *p, const struct rune_device_rule *d)
{
	size_t n = 0, len = 2; /* verdict: mov r0, exit */
	bool t = d->type != 'a', a = (d->access & DEV_ACC_ALL) != DEV_ACC_ALL, ma = d->major >= 0, mi = d->minor >= 0;
	len += t + (a ? 2 : 0) + ma + mi;
	if (t)
		p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, len - n - 1,
		            d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
		n++;
	if (a) {
		p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0);
		p[n] = INSN(BPF_JMP | BPF_JSET | BPF_K, 6, 0, len - n - 1, (int) (~d->access & DEV_ACC_ALL)), n++;
	}
	if (ma)
		p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, len - n - 1, (int) d->major), n++;
	if (mi)
		p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, len - n - 1, (int) d->minor), n++;
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, d->allow ? 1 : 0);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

static int apply_v2(const struct cgroup_hier *h, const struct rune_device_rule *rules, size_t n, rune_error_t *err)
{
	struct bpf_insn *prog = xcalloc(8 * n + 16, sizeof(*prog));
	size_t k = 0;
	/* r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx) */
	prog[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
	prog[k++] = INSN(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xFFFF);
	prog[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
	prog[k++] = INSN(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
	prog[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
	prog[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
	/* The last matching rule decides, as with the v1 lists: check from the end.
	 * A rule that matches everything ends the program (the verifier refuses
	 * code it can never reach). */
	bool open_end = true;
	for (size_t i = n; i-- > 0 && open_end;) {
		const struct rune_device_rule *d = &rules[i];
		k += emit_rule(prog + k, d);
		open_end = d->type != 'a' || (d->access & DEV_ACC_ALL) != DEV_ACC_ALL || d->major >= 0 || d->minor >= 0;
	}
	if (open_end) {
		prog[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
		prog[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	char log[4096] = "";
	union bpf_attr load = { 0 };
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uintptr_t) prog;
	load.insn_cnt = k;
	load.license = (uintptr_t) "Apache";
	cleanup_close int pfd = syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
	int e = errno;
	if (pfd < 0) {
		/* Once more with the verifier's log, for the message. */
		load.log_buf = (uintptr_t) log;
		load.log_size = sizeof(log);
		load.log_level = 1;
		if (syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load)) < 0 && errno == ENOSPC)
			log[sizeof(log) - 1] = '\0';
	}
	free(prog);
	if (pfd < 0)
		return rune_error(err, e, "devices cgroup: load the eBPF device program%s%.200s", *log ? ": " : "",
		                  log);
	cleanup_close int cgfd = open(h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	union bpf_attr at = { 0 };
	at.target_fd = cgfd;
	at.attach_bpf_fd = pfd;
	at.attach_type = BPF_CGROUP_DEVICE;
	at.attach_flags = BPF_F_ALLOW_MULTI;
	if (cgfd < 0 || syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof(at)) < 0)
		return rune_error(err, errno, "devices cgroup: attach the eBPF device program to %s", h->dir);
	return 0;
}

static bool named_by(const char *path, const struct rune_device *nodes, size_t n)
{
	for (size_t i = 0; path && i < n; i++)
		if (strcmp(nodes[i].path, path) == 0)
			return true;
	return false;
}

int librune_cgroup_apply_devices(const struct rune_cgroup *cg, const struct rune_resources *res,
                                 const struct rune_device *nodes, size_t n_nodes, rune_error_t *err)
{
	if (res == NULL || !res->has_devices)
		return 0; /* nothing asked: the devices controller stays as inherited */
	size_t n = res->n_devices;
	cleanup_free struct rune_device_rule *rules = xcalloc(n + ARRAY_SIZE(defaults) + 1, sizeof(*rules));
	memcpy(rules, res->devices, n * sizeof(*rules));
	size_t k = n;
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		if (!named_by(defaults[i].path, nodes, n_nodes))
			rules[k++] = defaults[i].rule;
	const struct cgroup_hier *h = librune_cgroup_find(cg, "devices");
	if (h == NULL)
		return rune_error(err, ENOTSUP, "linux.resources.devices: no devices controller on this host");
	return h->v2 ? apply_v2(h, rules, k, err) : apply_v1(h, rules, k, err);
}
