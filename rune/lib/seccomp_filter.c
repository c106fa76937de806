#include "seccomp_filter.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "log.h"
#include "util.h"

struct sc_arg {
	unsigned index;
	uint64_t value, value_two;
	enum scmp_compare op;
};

struct sc_rule {
	char **names;
	uint32_t action;
	struct sc_arg *args;
	size_t n_args;
};

struct rune_seccomp {
	uint32_t default_action;
	uint32_t *arches;
	size_t n_arches;
	bool flag_log, flag_spec_allow, flag_tsync;
	struct sc_rule *rules;
	size_t n_rules;
	bool notify;
	char *listener_path, *listener_metadata;
	struct sock_filter *prog; /* compiled by librune_seccomp_prepare; NULL: not yet */
	size_t prog_len;
};

const char *const librune_seccomp_action_names[] = {
	"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",   "SCMP_ACT_ERRNO",
	"SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY", NULL
};
const char *const librune_seccomp_operator_names[] = { "SCMP_CMP_NE",        "SCMP_CMP_LT", "SCMP_CMP_LE",
	                                               "SCMP_CMP_EQ",        "SCMP_CMP_GE", "SCMP_CMP_GT",
	                                               "SCMP_CMP_MASKED_EQ", NULL };
const char *const librune_seccomp_flag_names[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                                           "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL };
const char *const librune_seccomp_arch_names[] = {
	"SCMP_ARCH_X86",         "SCMP_ARCH_X86_64", "SCMP_ARCH_X32",       "SCMP_ARCH_ARM",     "SCMP_ARCH_AARCH64",
	"SCMP_ARCH_MIPS",        "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",
	"SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",    "SCMP_ARCH_PPC64",     "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390",
	"SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64", NULL
};

static const uint32_t arch_tokens[] = {
	SCMP_ARCH_X86,         SCMP_ARCH_X86_64, SCMP_ARCH_X32,       SCMP_ARCH_ARM,     SCMP_ARCH_AARCH64,
	SCMP_ARCH_MIPS,        SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPSEL,  SCMP_ARCH_MIPSEL64,
	SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC,    SCMP_ARCH_PPC64,     SCMP_ARCH_PPC64LE, SCMP_ARCH_S390,
	SCMP_ARCH_S390X,       SCMP_ARCH_PARISC, SCMP_ARCH_PARISC64,  SCMP_ARCH_RISCV64,
};

static int index_of(const char *const *names, const char *s)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/* An action name (+ errnoRet) into libseccomp's token. */
static int parse_action(const char *name, yajl_val errno_ret, int64_t default_errno, const char *where, uint32_t *out,
                        bool *notify, rune_error_t *err)
{
	int64_t e = default_errno;
	if (rune_json_read_int64(errno_ret, where, &e, err) < 0)
		return -1;
	if (e < 0 || e > 4095)
		return rune_error(err, EINVAL, "%s: errnoRet %lld is out of range", where, (long long) e);
	switch (index_of(librune_seccomp_action_names, name ? name : "")) {
	case 0:
	case 2:
		*out = SCMP_ACT_KILL_THREAD;
		break;
	case 1:
		*out = SCMP_ACT_KILL_PROCESS;
		break;
	case 3:
		*out = SCMP_ACT_TRAP;
		break;
	case 4:
		*out = SCMP_ACT_ERRNO((uint16_t) e);
		break;
	case 5:
		*out = SCMP_ACT_TRACE((uint16_t) e);
		break;
	case 6:
		*out = SCMP_ACT_ALLOW;
		break;
	case 7:
		*out = SCMP_ACT_LOG;
		break;
	case 8:
		*out = SCMP_ACT_NOTIFY;
		*notify = true;
		break;
	default:
		return rune_error(err, EINVAL, "%s: unknown action \"%s\"", where, name ? name : "");
	}
	return 0;
}

static int parse_args(yajl_val v, const char *where, struct sc_rule *r, rune_error_t *err)
{
	if (rune_json_expect_array(v, where, err) < 0)
		return -1;
	size_t n = v ? v->u.array.len : 0;
	r->args = xcalloc(n + 1, sizeof(*r->args));
	for (size_t i = 0; i < n; i++) {
		yajl_val a = v->u.array.values[i];
		cleanup_free char *w = xasprintf("%s[%zu]", where, i);
		cleanup_free char *op = NULL;
		uint64_t index = 0;
		if (rune_json_expect_object(a, w, err) < 0
		    || rune_json_read_uint64(rune_json_get(a, "index"), "index", &index, err) < 0
		    || rune_json_read_uint64(rune_json_get(a, "value"), "value", &r->args[i].value, err) < 0
		    || rune_json_read_uint64(rune_json_get(a, "valueTwo"), "valueTwo", &r->args[i].value_two, err) < 0
		    || rune_json_read_string(rune_json_get(a, "op"), "op", &op, err) < 0)
			return rune_error_wrap(err, "%s", w);
		if (index > 5)
			return rune_error(err, EINVAL, "%s.index: %llu, want 0 to 5", w, (unsigned long long) index);
		int k = index_of(librune_seccomp_operator_names, op ? op : "");
		if (k < 0)
			return rune_error(err, EINVAL, "%s.op: unknown operator \"%s\"", w, op ? op : "");
		static const enum scmp_compare ops[] = { SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE,       SCMP_CMP_EQ,
			                                 SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ };
		r->args[i].index = index;
		r->args[i].op = ops[k];
		r->n_args = i + 1;
	}
	return 0;
}

static int parse_syscalls(yajl_val v, struct rune_seccomp *s, rune_error_t *err)
{
	if (rune_json_expect_array(v, "linux.seccomp.syscalls", err) < 0)
		return -1;
	size_t n = v ? v->u.array.len : 0;
	s->rules = xcalloc(n + 1, sizeof(*s->rules));
	for (size_t i = 0; i < n; i++) {
		yajl_val sc = v->u.array.values[i];
		struct sc_rule *r = &s->rules[i];
		cleanup_free char *w = xasprintf("linux.seccomp.syscalls[%zu]", i);
		cleanup_free char *action = NULL;
		s->n_rules = i + 1;
		if (rune_json_expect_object(sc, w, err) < 0
		    || rune_json_read_strv(rune_json_get(sc, "names"), "names", &r->names, NULL, err) < 0
		    || rune_json_read_string(rune_json_get(sc, "action"), "action", &action, err) < 0)
			return rune_error_wrap(err, "%s", w);
		if (r->names == NULL || r->names[0] == NULL)
			return rune_error(err, EINVAL, "%s.names: empty", w);
		cleanup_free char *wa = xasprintf("%s.action", w);
		/* A rule's errno defaults to EPERM; defaultErrnoRet is the default action's. */
		if (parse_action(action, rune_json_get(sc, "errnoRet"), EPERM, wa, &r->action, &s->notify, err) < 0)
			return -1;
		/* The container's own set-up writes to rune before the agent is
		 * told of the filter: a notified write would never return. */
		for (size_t k = 0; r->action == SCMP_ACT_NOTIFY && r->names[k]; k++)
			if (strcmp(r->names[k], "write") == 0)
				return rune_error(err, EINVAL,
				                  "%s: SCMP_ACT_NOTIFY cannot be used for the write syscall", wa);
		cleanup_free char *wargs = xasprintf("%s.args", w);
		if (parse_args(rune_json_get(sc, "args"), wargs, r, err) < 0)
			return -1;
	}
	return 0;
}

int librune_seccomp_parse(yajl_val v, struct rune_seccomp **out, rune_error_t *err)
{
	cleanup_free char *def = NULL;
	cleanup_strv char **arches = NULL, **flags = NULL;
	int64_t default_errno = EPERM;
	*out = NULL;
	if (v == NULL)
		return 0;
	if (rune_json_expect_object(v, "linux.seccomp", err) < 0)
		return -1;
	struct rune_seccomp *s = xcalloc(1, sizeof(*s));
	int r = rune_json_read_string(rune_json_get(v, "defaultAction"), "linux.seccomp.defaultAction", &def, err);
	if (r == 0)
		r = rune_json_read_int64(rune_json_get(v, "defaultErrnoRet"), "linux.seccomp.defaultErrnoRet",
		                         &default_errno, err);
	if (r == 0)
		r = parse_action(def, NULL, default_errno, "linux.seccomp.defaultAction", &s->default_action,
		                 &s->notify, err);
	if (r == 0 && s->notify)
		r = rune_error(err, EINVAL,
		               "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	if (r == 0)
		r = rune_json_read_strv(rune_json_get(v, "architectures"), "linux.seccomp.architectures", &arches,
		                        &s->n_arches, err);
	s->arches = xcalloc(s->n_arches + 1, sizeof(uint32_t));
	for (size_t i = 0; r == 0 && i < s->n_arches; i++) {
		int k = index_of(librune_seccomp_arch_names, arches[i]);
		if (k < 0)
			r = rune_error(err, EINVAL, "linux.seccomp.architectures[%zu]: unknown \"%s\"", i, arches[i]);
		else
			s->arches[i] = arch_tokens[k];
	}
	if (r == 0)
		r = rune_json_read_strv(rune_json_get(v, "flags"), "linux.seccomp.flags", &flags, NULL, err);
	for (size_t i = 0; r == 0 && flags && flags[i]; i++) {
		int k = index_of(librune_seccomp_flag_names, flags[i]);
		if (k < 0)
			r = rune_error(err, ENOTSUP,
			               "linux.seccomp.flags[%zu]: \"%s\" is not supported (known: %s, %s, %s)", i,
			               flags[i], librune_seccomp_flag_names[0], librune_seccomp_flag_names[1],
			               librune_seccomp_flag_names[2]);
		s->flag_tsync |= k == 0;
		s->flag_log |= k == 1;
		s->flag_spec_allow |= k == 2;
	}
	if (r == 0)
		r = parse_syscalls(rune_json_get(v, "syscalls"), s, err);
	if (r == 0)
		r = rune_json_read_string(rune_json_get(v, "listenerPath"), "linux.seccomp.listenerPath",
		                          &s->listener_path, err);
	if (r == 0)
		r = rune_json_read_string(rune_json_get(v, "listenerMetadata"), "linux.seccomp.listenerMetadata",
		                          &s->listener_metadata, err);
	if (r == 0 && s->notify && (s->listener_path == NULL || s->listener_path[0] != '/'))
		r = rune_error(err, EINVAL,
		               "linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs an absolute listenerPath");
	if (r == 0 && s->notify && s->flag_tsync)
		r = rune_error(err, EINVAL,
		               "linux.seccomp.flags: SECCOMP_FILTER_FLAG_TSYNC cannot be used with SCMP_ACT_NOTIFY");
	if (r < 0) {
		librune_seccomp_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void librune_seccomp_free(struct rune_seccomp *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_rules; i++) {
		cleanup_strvp(&s->rules[i].names);
		free(s->rules[i].args);
	}
	free(s->rules);
	free(s->arches);
	free(s->listener_path);
	free(s->listener_metadata);
	free(s->prog);
	free(s);
}

const char *librune_seccomp_listener_path(const struct rune_seccomp *s)
{
	return s->listener_path;
}

const char *librune_seccomp_listener_metadata(const struct rune_seccomp *s)
{
	return s->listener_metadata;
}

/* One rule for one syscall; conditions on one argument index repeated mean
 * "any of" (as runc reads them), so those become one rule each. */
static int add_rule(scmp_filter_ctx ctx, const struct sc_rule *r, int nr, const char *name, rune_error_t *err)
{
	struct scmp_arg_cmp cmp[6];
	bool repeated = false;
	for (size_t i = 0; i < r->n_args; i++)
		for (size_t j = 0; j < i; j++)
			repeated |= r->args[i].index == r->args[j].index;
	int rc;
	if (!repeated) {
		for (size_t i = 0; i < r->n_args && i < 6; i++)
			cmp[i] = (struct scmp_arg_cmp){ r->args[i].index, r->args[i].op, r->args[i].value,
				                        r->args[i].value_two };
		rc = seccomp_rule_add_array(ctx, r->action, nr, r->n_args, cmp);
	} else {
		rc = 0;
		for (size_t i = 0; rc == 0 && i < r->n_args; i++) {
			cmp[0] = (struct scmp_arg_cmp){ r->args[i].index, r->args[i].op, r->args[i].value,
				                        r->args[i].value_two };
			rc = seccomp_rule_add_array(ctx, r->action, nr, 1, cmp);
		}
	}
	if (rc < 0)
		return rune_error(err, -rc, "linux.seccomp: add a rule for %s", name);
	return 0;
}

static int build(const struct rune_seccomp *s, scmp_filter_ctx ctx, rune_error_t *err)
{
	int rc;
	for (size_t i = 0; i < s->n_arches; i++)
		if ((rc = seccomp_arch_add(ctx, s->arches[i])) < 0 && rc != -EEXIST)
			return rune_error(err, -rc, "linux.seccomp.architectures[%zu]", i);
	if ((s->flag_log && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)) < 0)
	    || (s->flag_spec_allow && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)) < 0)
	    || (s->flag_tsync && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0))
		return rune_error(err, -rc, "linux.seccomp.flags");
	/* libseccomp would set no_new_privs by itself: process.noNewPrivileges decides. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct sc_rule *r = &s->rules[i];
		if (r->action == s->default_action)
			continue; /* the kernel refuses rules that change nothing */
		for (char **n = r->names; *n; n++) {
			int nr = seccomp_syscall_resolve_name(*n);
			if (nr == __NR_SCMP_ERROR) {
				/* Profiles name syscalls of newer kernels; runc skips them too. */
				log_debug("linux.seccomp: unknown syscall %s skipped", *n);
				continue;
			}
			if (add_rule(ctx, r, nr, *n, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* -ENOSYS for syscalls newer than the profile knows.
 *
 * A profile lists the syscalls of the kernel it was written for; a newer one
 * a program tries (clone3, faccessat2, ...) then gets the default action,
 * typically EPERM, and the program takes that as a verdict instead of falling
 * back to the older call, as it would on ENOSYS. So, as runc does, every
 * syscall numbered above the largest one the profile names (per
 * architecture) returns ENOSYS, by a short stub in front of libseccomp's
 * program, unless the default action permits anyway or is ENOSYS already. */

#define X32_SYSCALL_BIT   0x40000000u
#define SECCOMP_DATA_NR   0 /* offsetof(struct seccomp_data, nr) */
#define SECCOMP_DATA_ARCH 4 /* offsetof(struct seccomp_data, arch) */

struct enosys_arch {
	uint32_t audit_arch;           /* what the kernel reports */
	int64_t last_native, last_x32; /* largest syscall the profile names; -1: none */
};

static bool wants_enosys_stub(const struct rune_seccomp *s)
{
	uint32_t d = s->default_action;
	if (d == SCMP_ACT_ALLOW || d == SCMP_ACT_LOG)
		return false;
	return !((d & 0xffff0000u) == SCMP_ACT_ERRNO(0) && (d & 0xffffu) == ENOSYS);
}

/* The profile's architectures grouped as the kernel sees them (x32 shares
 * x86_64's, told apart by a bit of the syscall number). */
static size_t enosys_arches(const struct rune_seccomp *s, struct enosys_arch *out, size_t max)
{
	size_t n = 0;
	for (size_t a = 0; a < s->n_arches; a++) {
		bool x32 = s->arches[a] == SCMP_ARCH_X32;
		uint32_t audit = x32 ? SCMP_ARCH_X86_64 : s->arches[a];
		int64_t last = -1;
		for (size_t i = 0; i < s->n_rules; i++)
			for (char **nm = s->rules[i].names; *nm; nm++) {
				int nr = seccomp_syscall_resolve_name_arch(s->arches[a], *nm);
				if (nr >= 0 && nr > last)
					last = nr;
			}
		if (last < 0)
			continue;
		size_t k;
		for (k = 0; k < n && out[k].audit_arch != audit; k++)
			;
		if (k == n) {
			if (n == max)
				continue;
			out[n++] = (struct enosys_arch){ audit, -1, -1 };
		}
		if (x32)
			out[k].last_x32 = last;
		else
			out[k].last_native = last;
	}
	return n;
}

/* A tiny assembler: instructions with forward jumps to labels resolved later. */
struct bpf_prog {
	struct sock_filter insn[64];
	int jt_label[64], jf_label[64], k_label[64]; /* -1: none */
	size_t n;
	int label_at[16];
};

static void emit(struct bpf_prog *p, uint16_t code, uint32_t k, int jt, int jf, int k_label)
{
	p->insn[p->n] = (struct sock_filter){ code, 0, 0, k };
	p->jt_label[p->n] = jt;
	p->jf_label[p->n] = jf;
	p->k_label[p->n] = k_label;
	p->n++;
}

enum { L_FILTER, L_ENOSYS, L_ARCH0 };

/* The check of one architecture: syscall numbers above the profile's go to L_ENOSYS. */
static void emit_arch_check(struct bpf_prog *p, const struct enosys_arch *a)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, SECCOMP_DATA_NR, -1, -1, -1);
	if (a->audit_arch == SCMP_ARCH_X86_64) {
		int x32 = L_ARCH0 + 8; /* a label of its own, after every arch's */
		emit(p, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, a->last_x32 >= 0 ? x32 : L_FILTER, -1, -1);
		if (a->last_native >= 0)
			emit(p, BPF_JMP | BPF_JGT | BPF_K, (uint32_t) a->last_native, L_ENOSYS, L_FILTER, -1);
		else
			emit(p, BPF_JMP | BPF_JA, 0, -1, -1, L_FILTER);
		if (a->last_x32 >= 0) {
			p->label_at[x32] = (int) p->n;
			emit(p, BPF_JMP | BPF_JGT | BPF_K, (uint32_t) a->last_x32, L_ENOSYS, L_FILTER, -1);
		}
		return;
	}
	emit(p, BPF_JMP | BPF_JGT | BPF_K, (uint32_t) a->last_native, L_ENOSYS, L_FILTER, -1);
}

static int build_enosys_stub(const struct enosys_arch *arches, size_t n, struct bpf_prog *p, rune_error_t *err)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < ARRAY_SIZE(p->label_at); i++)
		p->label_at[i] = -1;
	emit(p, BPF_LD | BPF_W | BPF_ABS, SECCOMP_DATA_ARCH, -1, -1, -1);
	for (size_t i = 0; i < n; i++)
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, arches[i].audit_arch, L_ARCH0 + (int) i, -1, -1);
	emit(p, BPF_JMP | BPF_JA, 0, -1, -1, L_FILTER); /* another architecture: the filter decides */
	for (size_t i = 0; i < n; i++) {
		p->label_at[L_ARCH0 + i] = (int) p->n;
		emit_arch_check(p, &arches[i]);
	}
	p->label_at[L_ENOSYS] = (int) p->n;
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, -1, -1, -1);
	p->label_at[L_FILTER] = (int) p->n; /* the stub is followed by libseccomp's program */
	for (size_t i = 0; i < p->n; i++) {
		int lab[3] = { p->jt_label[i], p->jf_label[i], p->k_label[i] };
		long off[3] = { 0, 0, 0 };
		for (int j = 0; j < 3; j++) {
			if (lab[j] < 0)
				continue;
			off[j] = (long) p->label_at[lab[j]] - (long) (i + 1);
			if (p->label_at[lab[j]] < 0 || off[j] < 0 || (j < 2 && off[j] > 255))
				return rune_error(err, E2BIG, "linux.seccomp: the -ENOSYS stub does not fit");
		}
		p->insn[i].jt = (uint8_t) off[0];
		p->insn[i].jf = (uint8_t) off[1];
		if (lab[2] >= 0)
			p->insn[i].k = (uint32_t) off[2];
	}
	return 0;
}

/* libseccomp's program, as the kernel would get it. */
static int export_program(scmp_filter_ctx ctx, struct sock_filter **prog, size_t *n, rune_error_t *err)
{
	cleanup_close int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return rune_error(err, errno, "linux.seccomp: memfd_create");
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return rune_error(err, -rc, "linux.seccomp: export the filter");
	off_t size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % sizeof(struct sock_filter) != 0 || lseek(fd, 0, SEEK_SET) < 0)
		return rune_error(err, EINVAL, "linux.seccomp: the exported filter has %lld bytes", (long long) size);
	*prog = xmalloc(size);
	if (pread(fd, *prog, size, 0) != size) {
		free(*prog);
		return rune_error(err, errno, "linux.seccomp: read the exported filter");
	}
	*n = size / sizeof(struct sock_filter);
	return 0;
}

/* The whole program the kernel gets: the ENOSYS stub (when wanted) in front
 * of libseccomp's. */
static int compile_program(const struct rune_seccomp *s, struct sock_filter **out, size_t *out_len, rune_error_t *err)
{
	struct enosys_arch arches[8];
	struct bpf_prog stub = { .n = 0 };
	size_t n_arches = wants_enosys_stub(s) ? enosys_arches(s, arches, ARRAY_SIZE(arches)) : 0;
	if (n_arches && build_enosys_stub(arches, n_arches, &stub, err) < 0)
		return -1;
	scmp_filter_ctx ctx = seccomp_init(s->default_action);
	if (ctx == NULL)
		return rune_error(err, EINVAL, "linux.seccomp: cannot create a filter");
	cleanup_free struct sock_filter *filter = NULL;
	size_t n = 0;
	int r = build(s, ctx, err);
	if (r == 0)
		r = export_program(ctx, &filter, &n, err);
	seccomp_release(ctx);
	if (r < 0)
		return -1;
	if (n + stub.n > BPF_MAXINSNS)
		return rune_error(err, E2BIG, "linux.seccomp: %zu instructions, more than the kernel takes",
		                  n + stub.n);
	*out = xcalloc(n + stub.n, sizeof(**out));
	memcpy(*out, stub.insn, stub.n * sizeof(**out));
	memcpy(*out + stub.n, filter, n * sizeof(**out));
	*out_len = n + stub.n;
	return 0;
}

/* Load a compiled program with the profile's flags; a listener's fd into *notify_fd. */
static int load_program(const struct rune_seccomp *s, const struct sock_filter *insn, size_t n, int *notify_fd,
                        rune_error_t *err)
{
	struct sock_fprog prog = { .len = (unsigned short) n, .filter = (struct sock_filter *) insn };
	unsigned long flags = (s->flag_tsync ? SECCOMP_FILTER_FLAG_TSYNC : 0)
	                      | (s->flag_log ? SECCOMP_FILTER_FLAG_LOG : 0)
	                      | (s->flag_spec_allow ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0)
	                      | (s->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (rc < 0)
		return rune_error(err, errno, "linux.seccomp: load the filter");
	if (s->notify)
		*notify_fd = (int) rc;
	return 0;
}

int librune_seccomp_install(const struct rune_seccomp *s, int *notify_fd, rune_error_t *err)
{
	*notify_fd = -1;
	if (s->prog)
		return load_program(s, s->prog, s->prog_len, notify_fd, err);
	cleanup_free struct sock_filter *insn = NULL;
	size_t n = 0;
	if (compile_program(s, &insn, &n, err) < 0)
		return -1;
	return load_program(s, insn, n, notify_fd, err);
}

/* The compiled-program cache.
 *
 * libseccomp builds a program in time that grows with the rules (about 30 us
 * a rule here: 13 ms for a 400-rule profile), and every container start and
 * exec paid it again for the same profile. The program is kept under the
 * state root, named by a hash of everything it is made from — the profile as
 * parsed, libseccomp's version and API level, the native architecture — and
 * the file holds that whole description too, compared byte for byte before
 * the program is used: a hash collision, a profile changed, libseccomp
 * upgraded, a truncated or foreign file all mean a fresh compile. The
 * directory (0700) is in the state root: whoever can write there can replace
 * rune's state anyway. */
#define CACHE_DIR   ".seccomp-bpf"
#define CACHE_MAGIC "rune-seccomp-bpf 1\n"
#define CACHE_MAX   256 /* programs kept; past that a new one is compiled each time */

/* Everything the compiled program depends on, as text. */
static char *cache_key(const struct rune_seccomp *s)
{
	char *key = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&key, &len);
	if (f == NULL)
		rune_oom();
	const struct scmp_version *v = seccomp_version();
	fprintf(f, "libseccomp %u.%u.%u api %u native %u default %u arches", v->major, v->minor, v->micro,
	        seccomp_api_get(), seccomp_arch_native(), s->default_action);
	for (size_t i = 0; i < s->n_arches; i++)
		fprintf(f, " %u", s->arches[i]);
	fprintf(f, "\nrules %zu\n", s->n_rules);
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct sc_rule *r = &s->rules[i];
		fprintf(f, "%u", r->action);
		/* Each name with its length: names the kernel does not know are
		 * kept (and skipped by build), so "mkdir x" must not read as
		 * "mkdir" and "x" — or a profile could reuse a weaker program. */
		for (char **n = r->names; *n; n++)
			fprintf(f, " %zu:%s", strlen(*n), *n);
		for (size_t a = 0; a < r->n_args; a++)
			fprintf(f, " (%u %d %" PRIu64 " %" PRIu64 ")", r->args[a].index, (int) r->args[a].op,
			        r->args[a].value, r->args[a].value_two);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		rune_oom();
	return key;
}

/* FNV-1a, 64 bits: a file name, not a proof (the key is compared whole). */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * 0x100000001b3ull;
	return h;
}

/* The program cached at path for key; 0 and *prog, or -1 (none usable). */
static int cache_read(const char *path, const char *key, struct sock_filter **prog, size_t *n)
{
	cleanup_free char *data = NULL;
	size_t len = 0, klen = strlen(key), head = strlen(CACHE_MAGIC);
	if (rune_read_file(path, head + klen + 1 + BPF_MAXINSNS * sizeof(struct sock_filter), &data, &len, NULL) < 0)
		return -1;
	if (len <= head + klen + 1 || memcmp(data, CACHE_MAGIC, head) != 0 || memcmp(data + head, key, klen) != 0
	    || data[head + klen] != '\0')
		return -1;
	size_t body = len - head - klen - 1;
	if (body % sizeof(struct sock_filter) != 0 || body / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -1;
	*n = body / sizeof(struct sock_filter);
	*prog = xmalloc(body);
	memcpy(*prog, data + head + klen + 1, body);
	return 0;
}

/* Keep the program for the next start; failures only cost that. */
static void cache_write(const char *state_root, const char *dir, const char *path, const char *key,
                        const struct sock_filter *prog, size_t n)
{
	cleanup_error rune_error_t err = NULL;
	cleanup_dir DIR *d = NULL;
	size_t count = 0, head = strlen(CACHE_MAGIC), klen = strlen(key), body = n * sizeof(*prog);
	/* (the first create may come here before it makes the root: 0711, as it would) */
	if (rune_mkdir_p(state_root, 0711, &err) < 0 || (mkdir(dir, 0700) < 0 && errno != EEXIST)
	    || (d = opendir(dir)) == NULL)
		return;
	for (struct dirent *e; (e = readdir(d)) != NULL && count < CACHE_MAX;)
		count += e->d_name[0] != '.';
	if (count >= CACHE_MAX)
		return;
	cleanup_free char *data = xmalloc(head + klen + 1 + body);
	memcpy(data, CACHE_MAGIC, head);
	memcpy(data + head, key, klen + 1);
	memcpy(data + head + klen + 1, prog, body);
	if (rune_write_file_replace(path, data, head + klen + 1 + body, 0600, &err) < 0)
		log_debug("linux.seccomp: not cached: %s", err->msg);
}

int librune_seccomp_prepare(struct rune_seccomp *s, const char *state_root, rune_error_t *err)
{
	if (s == NULL || s->prog)
		return 0;
	cleanup_free char *key = cache_key(s);
	cleanup_free char *dir = xasprintf("%s/" CACHE_DIR, state_root);
	cleanup_free char *path = xasprintf("%s/%016" PRIx64, dir, name_hash(key));
	if (cache_read(path, key, &s->prog, &s->prog_len) == 0)
		return 0;
	if (compile_program(s, &s->prog, &s->prog_len, err) < 0)
		return -1;
	cache_write(state_root, dir, path, key, s->prog, s->prog_len);
	return 0;
}
