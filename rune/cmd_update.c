#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "rune_cli.h"
#include "container.h"
#include "json.h"
#include "util.h"

/* "512m", "1g", "1024", "-1": bytes (k/m/g/t in powers of 1024, as docker's units). */
static bool parse_size(const char *s, long long *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end == s)
		return false;
	switch (*end ? (*end | 0x20) : 0) {
	case 0:
		break;
	case 'k':
		v <<= 10;
		break;
	case 'm':
		v <<= 20;
		break;
	case 'g':
		v <<= 30;
		break;
	case 't':
		v <<= 40;
		break;
	default:
		return false;
	}
	if (*end && end[1] && !((end[1] | 0x20) == 'b' && end[2] == '\0'))
		return false;
	*out = v;
	return true;
}

enum {
	F_MEMORY,
	F_MEMRES,
	F_SWAP,
	F_KMEM,
	F_KMEM_TCP,
	F_SHARES,
	F_PERIOD,
	F_QUOTA,
	F_RT_PERIOD,
	F_RT_RUNTIME,
	F_CPUS,
	F_MEMS,
	F_PIDS,
	F_BLKIO,
	F_N
};
static const struct {
	const char *flag, *group, *key;
	bool is_string;
} fields[F_N] = {
	[F_MEMORY] = { "memory", "memory", "limit", false },
	[F_MEMRES] = { "memory-reservation", "memory", "reservation", false },
	[F_SWAP] = { "memory-swap", "memory", "swap", false },
	[F_KMEM] = { "kernel-memory", "memory", "kernel", false },
	[F_KMEM_TCP] = { "kernel-memory-tcp", "memory", "kernelTCP", false },
	[F_SHARES] = { "cpu-share", "cpu", "shares", false },
	[F_PERIOD] = { "cpu-period", "cpu", "period", false },
	[F_QUOTA] = { "cpu-quota", "cpu", "quota", false },
	[F_RT_PERIOD] = { "cpu-rt-period", "cpu", "realtimePeriod", false },
	[F_RT_RUNTIME] = { "cpu-rt-runtime", "cpu", "realtimeRuntime", false },
	[F_CPUS] = { "cpuset-cpus", "cpu", "cpus", true },
	[F_MEMS] = { "cpuset-mems", "cpu", "mems", true },
	[F_PIDS] = { "pids-limit", "pids", "limit", false },
	[F_BLKIO] = { "blkio-weight", "blockIO", "weight", false },
};

/* Turn the flags into a LinuxResources document. */
static char *flags_to_json(const char *vals[F_N], rune_error_t *err)
{
	static const char *groups[] = { "memory", "cpu", "pids", "blockIO" };
	yajl_gen g = rune_json_gen_new(false, NULL);
	const unsigned char *buf;
	size_t len;
	yajl_gen_map_open(g);
	for (size_t gi = 0; gi < ARRAY_SIZE(groups); gi++) {
		bool open = false;
		for (int i = 0; i < F_N; i++) {
			if (!vals[i] || strcmp(fields[i].group, groups[gi]) != 0)
				continue;
			if (!open) {
				rune_json_gen_key(g, groups[gi]);
				yajl_gen_map_open(g);
				open = true;
			}
			long long v;
			if (fields[i].is_string) {
				rune_json_gen_kv_str(g, fields[i].key, vals[i]);
			} else if (parse_size(vals[i], &v)) {
				rune_json_gen_kv_int(g, fields[i].key, v);
			} else {
				yajl_gen_free(g);
				rune_error(err, 0, "--%s: invalid value \"%s\"", fields[i].flag, vals[i]);
				return NULL;
			}
		}
		if (open)
			yajl_gen_map_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	char *s = xasprintf("%.*s", (int) len, buf);
	yajl_gen_free(g);
	return s;
}

int cmd_update(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	struct option opts[F_N + 5];
	const char *vals[F_N] = { 0 };
	const char *rfile = NULL;
	cleanup_container struct rune_container *c = NULL;
	cleanup_free char *text = NULL;
	const char *id;
	int ch, k = 0;

	for (int i = 0; i < F_N; i++)
		opts[k++] = (struct option){ fields[i].flag, required_argument, NULL, 1000 + i };
	opts[k++] = (struct option){ "cpu-shares", required_argument, NULL, 1000 + F_SHARES }; /* docker's spelling */
	opts[k++] = (struct option){ "resources", required_argument, NULL, 'r' };
	opts[k++] = (struct option){ "l3-cache-schema", required_argument, NULL, 'x' };
	opts[k++] = (struct option){ "mem-bw-schema", required_argument, NULL, 'x' };
	opts[k] = (struct option){ NULL, 0, NULL, 0 };
	/* Options may follow the id, as runc takes them (update has no other operands). */
	while ((ch = getopt_long_only(argc, argv, "r:", opts, NULL)) != -1) {
		if (ch >= 1000 && ch < 1000 + F_N)
			vals[ch - 1000] = optarg;
		else if (ch == 'r')
			rfile = optarg;
		else if (ch == 'x')
			return rune_error(err, ENOTSUP, "update: %s: Intel RDT is not supported by rune",
			                  argv[optind - 1]);
		else
			return rune_error(err, 0, "update: invalid flags");
	}
	if (cli_require_id(argc, argv, "update [command options] <container-id>", &id, err) < 0)
		return -1;
	if (rfile) {
		int r = strcmp(rfile, "-") == 0 ? rune_read_fd_all(0, "standard input", 1 << 20, &text, NULL, err)
		                                : rune_read_file(rfile, 1 << 20, &text, NULL, err);
		if (r < 0)
			return -1;
	} else if ((text = flags_to_json(vals, err)) == NULL) {
		return -1;
	}
	yajl_val doc = NULL;
	const char *what = rfile ? rfile : "update flags";
	if (rune_json_parse(text, what, &doc, err) < 0)
		return -1;
	struct rune_resources *res = NULL;
	int r = librune_resources_parse(doc, what, &res, err);
	yajl_tree_free(doc);
	if (r == 0)
		r = librune_container_load(cli->root, id, &c, err);
	if (r == 0 && librune_container_status(c) == STATUS_STOPPED)
		r = rune_error(err, 0, "container not running");
	if (r == 0)
		r = librune_cgroup_apply_resources(c->cgroup, res, err);
	librune_resources_free(res);
	return r < 0 ? -1 : 0;
}
