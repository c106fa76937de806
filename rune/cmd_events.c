#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rune_cli.h"
#include "container.h"
#include "json.h"

/* A Go-style duration: "5s", "500ms", "1m", "2" (seconds). Milliseconds or -1. */
static long parse_interval(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || v <= 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		return (long) (v * 1000);
	if (strcmp(end, "ms") == 0)
		return (long) v;
	if (strcmp(end, "m") == 0)
		return (long) (v * 60000);
	return -1;
}

static void print_stats(const struct rune_container *c)
{
	yajl_gen gen = rune_json_gen_new(false, NULL);
	yajl_gen_map_open(gen);
	rune_json_gen_kv_str(gen, "type", "stats");
	rune_json_gen_kv_str(gen, "id", c->id);
	rune_json_gen_key(gen, "data");
	librune_cgroup_stats(c->cgroup, gen);
	yajl_gen_map_close(gen);
	cli_print_json(gen);
	fflush(stdout);
}

static void print_event(const struct rune_container *c, const char *type)
{
	yajl_gen gen = rune_json_gen_new(false, NULL);
	yajl_gen_map_open(gen);
	rune_json_gen_kv_str(gen, "type", type);
	rune_json_gen_kv_str(gen, "id", c->id);
	yajl_gen_map_close(gen);
	cli_print_json(gen);
	fflush(stdout);
}

int cmd_events(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	static const struct option opts[] = { { "stats", no_argument, NULL, 's' },
		                              { "interval", required_argument, NULL, 'i' },
		                              { NULL, 0, NULL, 0 } };
	bool once = false;
	long interval = 5000;
	const char *id;
	int ch;

	while ((ch = getopt_long_only(argc, argv, "+", opts, NULL)) != -1) {
		if (ch == 's')
			once = true;
		else if (ch == 'i' && (interval = parse_interval(optarg)) > 0)
			continue;
		else
			return rune_error(err, 0, "events: invalid --interval or flag");
	}
	if (cli_require_id(argc, argv, "events [command options] <container-id>", &id, err) < 0)
		return -1;
	cleanup_container struct rune_container *c = NULL;
	if (librune_container_load(cli->root, id, &c, err) < 0)
		return -1;
	/* The lock is for mutations: release it, and sample the kernel's view
	 * (status from /proc, counters from the cgroup) without reloading state. */
	librune_container_unlock(c);
	/* OOM kills since the container started count, even those before `events` ran. */
	long long ooms = 0;
	for (long waited = interval;; waited += 100) {
		if (librune_container_status(c) == STATUS_STOPPED)
			return rune_error(err, 0, "container with id %s is not running", id);
		/* OOM kills show up within 100 ms, stats every interval. */
		long long now = once ? -1 : librune_cgroup_oom_kills(c->cgroup);
		if (now > ooms) {
			print_event(c, "oom");
			ooms = now;
		}
		if (waited >= interval) {
			print_stats(c);
			waited = 0;
		}
		if (once)
			return 0;
		struct timespec ts = { 0, 100 * 1000000L };
		nanosleep(&ts, NULL);
	}
}
