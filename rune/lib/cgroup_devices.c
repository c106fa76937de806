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
#include "json.h"
#include "util.h"

enum { ACC_MKNOD = BPF_DEVCG_ACC_MKNOD, ACC_READ = BPF_DEVCG_ACC_READ, ACC_WRITE = BPF_DEVCG_ACC_WRITE };

struct dev_rule {
	bool allow;
	char type;              /* 'a', 'c', 'b' */
	long long major, minor; /* -1: any */
	unsigned access;
};

/* runc's implicit allow-list: device nodes any container needs. */
static const struct dev_rule defaults[] = {
	{ true, 'c', -1, -1, ACC_MKNOD }, { true, 'b', -1, -1, ACC_MKNOD }, { true, 'c', 1, 3, 7 },
	{ true, 'c', 1, 5, 7 },           { true, 'c', 1, 7, 7 },           { true, 'c', 1, 8, 7 },
	{ true, 'c', 1, 9, 7 },           { true, 'c', 5, 0, 7 },           { true, 'c', 5, 1, 7 },
	{ true, 'c', 5, 2, 7 },           { true, 'c', 136, -1, 7 },
};

static int parse_rule(yajl_val v, size_t i, struct dev_rule *d, rune_error_t *err)
{
	cleanup_free char *w = xasprintf("linux.resources.devices[%zu]", i);
	cleanup_free char *type = NULL, *access = NULL;
	int64_t maj = -1, min = -1;
	bool allow = false;
	if (json_expect_object(v, w, err) < 0 || json_read_bool(json_get(v, "allow"), "allow", &allow, err) < 0
	    || json_read_string(json_get(v, "type"), "type", &type, err) < 0
	    || json_read_int64(json_get(v, "major"), "major", &maj, err) < 0
	    || json_read_int64(json_get(v, "minor"), "minor", &min, err) < 0
	    || json_read_string(json_get(v, "access"), "access", &access, err) < 0)
		return rune_error_wrap(err, "%s", w);
	if (json_get(v, "allow") == NULL)
		return rune_error(err, EINVAL, "%s.allow: missing", w);
	d->allow = allow;
	d->type = type && *type ? type[0] : 'a';
	if ((d->type != 'a' && d->type != 'c' && d->type != 'b') || (type && strlen(type) > 1))
		return rune_error(err, EINVAL, "%s.type: \"%s\", want a, c or b", w, type);
	d->major = maj;
	d->minor = min;
	d->access = 0;
	for (const char *p = access && *access ? access : "rwm"; *p; p++) {
		if (*p == 'r')
			d->access |= ACC_READ;
		else if (*p == 'w')
			d->access |= ACC_WRITE;
		else if (*p == 'm')
			d->access |= ACC_MKNOD;
		else
			return rune_error(err, EINVAL, "%s.access: \"%s\", want letters of rwm", w, access);
	}
	return 0;
}

static void format_rule(const struct dev_rule *d, char *buf, size_t n)
{
	char maj[24] = "*", min[24] = "*";
	if (d->major >= 0)
		snprintf(maj, sizeof(maj), "%lld", d->major);
	if (d->minor >= 0)
		snprintf(min, sizeof(min), "%lld", d->minor);
	if (d->type == 'a') {
		snprintf(buf, n, "a");
		return;
	}
	snprintf(buf, n, "%c %s:%s %s%s%s", d->type, maj, min, d->access & ACC_READ ? "r" : "",
	         d->access & ACC_WRITE ? "w" : "", d->access & ACC_MKNOD ? "m" : "");
}

static int apply_v1(const struct cgroup_hier *h, const struct dev_rule *rules, size_t n, rune_error_t *err)
{
	for (size_t i = 0; i < n; i++) {
		char line[96];
		format_rule(&rules[i], line, sizeof(line));
		if (cg_write(h->dir, rules[i].allow ? "devices.allow" : "devices.deny", line, err) < 0)
			return rune_error_wrap(err, "devices cgroup");
	}
	return 0;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

/* One rule: checks that jump to the next rule on mismatch, then the verdict. */
static size_t emit_rule(struct bpf_insn *p, const struct dev_rule *d)
{
	size_t n = 0, len = 2; /* verdict: mov r0, exit */
	bool t = d->type != 'a', a = (d->access & 7) != 7, ma = d->major >= 0, mi = d->minor >= 0;
	len += t + (a ? 2 : 0) + ma + mi;
	if (t)
		p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, len - n - 1,
		            d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK),
		n++;
	if (a) {
		p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0);
		p[n] = INSN(BPF_JMP | BPF_JSET | BPF_K, 6, 0, len - n - 1, (int) (~d->access & 7)), n++;
	}
	if (ma)
		p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, len - n - 1, (int) d->major), n++;
	if (mi)
		p[n] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, len - n - 1, (int) d->minor), n++;
	p[n++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, d->allow ? 1 : 0);
	p[n++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

static int apply_v2(const struct cgroup_hier *h, const struct dev_rule *rules, size_t n, rune_error_t *err)
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
		const struct dev_rule *d = &rules[i];
		k += emit_rule(prog + k, d);
		open_end = d->type != 'a' || (d->access & 7) != 7 || d->major >= 0 || d->minor >= 0;
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

int cgroup_apply_devices(const struct rune_cgroup *cg, yajl_val list, const char *types, const long long *majors,
                         const long long *minors, size_t n_extra, rune_error_t *err)
{
	if (list == NULL)
		return 0; /* nothing asked: the devices controller stays as inherited */
	if (json_expect_array(list, "linux.resources.devices", err) < 0)
		return -1;
	size_t n = list->u.array.len;
	size_t total = n + sizeof(defaults) / sizeof(defaults[0]) + n_extra;
	cleanup_free struct dev_rule *rules = xcalloc(total + 1, sizeof(*rules));
	for (size_t i = 0; i < n; i++)
		if (parse_rule(list->u.array.values[i], i, &rules[i], err) < 0)
			return -1;
	memcpy(rules + n, defaults, sizeof(defaults));
	size_t k = n + sizeof(defaults) / sizeof(defaults[0]);
	for (size_t i = 0; i < n_extra; i++)
		if (types[i] == 'c' || types[i] == 'b')
			rules[k++] = (struct dev_rule){ true, types[i], majors[i], minors[i], 7 };
	const struct cgroup_hier *h = cgroup_find(cg, "devices");
	if (h == NULL)
		return rune_error(err, ENOTSUP, "linux.resources.devices: no devices controller on this host");
	return h->v2 ? apply_v2(h, rules, k, err) : apply_v1(h, rules, k, err);
}
