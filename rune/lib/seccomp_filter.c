#include "seccomp_filter.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>

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
};

const char *const seccomp_action_names[] = {
	"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",   "SCMP_ACT_ERRNO",
	"SCMP_ACT_TRACE", "SCMP_ACT_ALLOW",        "SCMP_ACT_LOG",         "SCMP_ACT_NOTIFY", NULL
};
const char *const seccomp_operator_names[] = { "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
	                                       "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL };
const char *const seccomp_flag_names[] = { "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	                                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW", NULL };
const char *const seccomp_arch_names[] = {
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
	if (json_read_int64(errno_ret, where, &e, err) < 0)
		return -1;
	if (e < 0 || e > 4095)
		return rune_error(err, EINVAL, "%s: errnoRet %lld is out of range", where, (long long) e);
	switch (index_of(seccomp_action_names, name ? name : "")) {
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
	if (json_expect_array(v, where, err) < 0)
		return -1;
	size_t n = v ? v->u.array.len : 0;
	r->args = xcalloc(n + 1, sizeof(*r->args));
	for (size_t i = 0; i < n; i++) {
		yajl_val a = v->u.array.values[i];
		cleanup_free char *w = xasprintf("%s[%zu]", where, i);
		cleanup_free char *op = NULL;
		uint64_t index = 0;
		if (json_expect_object(a, w, err) < 0
		    || json_read_uint64(json_get(a, "index"), "index", &index, err) < 0
		    || json_read_uint64(json_get(a, "value"), "value", &r->args[i].value, err) < 0
		    || json_read_uint64(json_get(a, "valueTwo"), "valueTwo", &r->args[i].value_two, err) < 0
		    || json_read_string(json_get(a, "op"), "op", &op, err) < 0)
			return rune_error_wrap(err, "%s", w);
		if (index > 5)
			return rune_error(err, EINVAL, "%s.index: %llu, want 0 to 5", w, (unsigned long long) index);
		int k = index_of(seccomp_operator_names, op ? op : "");
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
	if (json_expect_array(v, "linux.seccomp.syscalls", err) < 0)
		return -1;
	size_t n = v ? v->u.array.len : 0;
	s->rules = xcalloc(n + 1, sizeof(*s->rules));
	for (size_t i = 0; i < n; i++) {
		yajl_val sc = v->u.array.values[i];
		struct sc_rule *r = &s->rules[i];
		cleanup_free char *w = xasprintf("linux.seccomp.syscalls[%zu]", i);
		cleanup_free char *action = NULL;
		s->n_rules = i + 1;
		if (json_expect_object(sc, w, err) < 0
		    || json_read_strv(json_get(sc, "names"), "names", &r->names, NULL, err) < 0
		    || json_read_string(json_get(sc, "action"), "action", &action, err) < 0)
			return rune_error_wrap(err, "%s", w);
		if (r->names == NULL || r->names[0] == NULL)
			return rune_error(err, EINVAL, "%s.names: empty", w);
		cleanup_free char *wa = xasprintf("%s.action", w);
		/* A rule's errno defaults to EPERM; defaultErrnoRet is the default action's. */
		if (parse_action(action, json_get(sc, "errnoRet"), EPERM, wa, &r->action, &s->notify, err) < 0)
			return -1;
		/* The container's own set-up writes to rune before the agent is
		 * told of the filter: a notified write would never return. */
		for (size_t k = 0; r->action == SCMP_ACT_NOTIFY && r->names[k]; k++)
			if (strcmp(r->names[k], "write") == 0)
				return rune_error(err, EINVAL,
				                  "%s: SCMP_ACT_NOTIFY cannot be used for the write syscall", wa);
		cleanup_free char *wargs = xasprintf("%s.args", w);
		if (parse_args(json_get(sc, "args"), wargs, r, err) < 0)
			return -1;
	}
	return 0;
}

int seccomp_parse(yajl_val v, struct rune_seccomp **out, rune_error_t *err)
{
	cleanup_free char *def = NULL;
	cleanup_strv char **arches = NULL, **flags = NULL;
	int64_t default_errno = EPERM;
	*out = NULL;
	if (v == NULL)
		return 0;
	if (json_expect_object(v, "linux.seccomp", err) < 0)
		return -1;
	struct rune_seccomp *s = xcalloc(1, sizeof(*s));
	int r = json_read_string(json_get(v, "defaultAction"), "linux.seccomp.defaultAction", &def, err);
	if (r == 0)
		r = json_read_int64(json_get(v, "defaultErrnoRet"), "linux.seccomp.defaultErrnoRet", &default_errno,
		                    err);
	if (r == 0)
		r = parse_action(def, NULL, default_errno, "linux.seccomp.defaultAction", &s->default_action,
		                 &s->notify, err);
	if (r == 0 && s->notify)
		r = rune_error(err, EINVAL,
		               "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	if (r == 0)
		r = json_read_strv(json_get(v, "architectures"), "linux.seccomp.architectures", &arches, &s->n_arches,
		                   err);
	s->arches = xcalloc(s->n_arches + 1, sizeof(uint32_t));
	for (size_t i = 0; r == 0 && i < s->n_arches; i++) {
		int k = index_of(seccomp_arch_names, arches[i]);
		if (k < 0)
			r = rune_error(err, EINVAL, "linux.seccomp.architectures[%zu]: unknown \"%s\"", i, arches[i]);
		else
			s->arches[i] = arch_tokens[k];
	}
	if (r == 0)
		r = json_read_strv(json_get(v, "flags"), "linux.seccomp.flags", &flags, NULL, err);
	for (size_t i = 0; r == 0 && flags && flags[i]; i++) {
		int k = index_of(seccomp_flag_names, flags[i]);
		if (k < 0)
			r = rune_error(err, ENOTSUP,
			               "linux.seccomp.flags[%zu]: \"%s\" is not supported (known: %s, %s, %s)", i,
			               flags[i], seccomp_flag_names[0], seccomp_flag_names[1], seccomp_flag_names[2]);
		s->flag_tsync |= k == 0;
		s->flag_log |= k == 1;
		s->flag_spec_allow |= k == 2;
	}
	if (r == 0)
		r = parse_syscalls(json_get(v, "syscalls"), s, err);
	if (r == 0)
		r = json_read_string(json_get(v, "listenerPath"), "linux.seccomp.listenerPath", &s->listener_path, err);
	if (r == 0)
		r = json_read_string(json_get(v, "listenerMetadata"), "linux.seccomp.listenerMetadata",
		                     &s->listener_metadata, err);
	if (r == 0 && s->notify && (s->listener_path == NULL || s->listener_path[0] != '/'))
		r = rune_error(err, EINVAL,
		               "linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs an absolute listenerPath");
	if (r == 0 && s->notify && s->flag_tsync)
		r = rune_error(err, EINVAL,
		               "linux.seccomp.flags: SECCOMP_FILTER_FLAG_TSYNC cannot be used with SCMP_ACT_NOTIFY");
	if (r < 0) {
		seccomp_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void seccomp_free(struct rune_seccomp *s)
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
	free(s);
}

const char *seccomp_listener_path(const struct rune_seccomp *s)
{
	return s->listener_path;
}

const char *seccomp_listener_metadata(const struct rune_seccomp *s)
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

int seccomp_install(const struct rune_seccomp *s, int *notify_fd, rune_error_t *err)
{
	*notify_fd = -1;
	scmp_filter_ctx ctx = seccomp_init(s->default_action);
	if (ctx == NULL)
		return rune_error(err, EINVAL, "linux.seccomp: cannot create a filter");
	int r = build(s, ctx, err);
	if (r == 0) {
		int rc = seccomp_load(ctx);
		if (rc < 0)
			r = rune_error(err, -rc, "linux.seccomp: load the filter");
	}
	if (r == 0 && s->notify) {
		*notify_fd = seccomp_notify_fd(ctx);
		if (*notify_fd < 0)
			r = rune_error(err, -*notify_fd, "linux.seccomp: get the notification fd");
	}
	seccomp_release(ctx);
	return r;
}
