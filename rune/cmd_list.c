#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cleanup.h"
#include "rune_cli.h"
#include "container.h"
#include "json.h"
#include "util.h"

/* ID, PID, STATUS, BUNDLE, CREATED, OWNER */
enum { COLUMNS = 6, LAST = COLUMNS - 1 };

struct row {
	char *cells[COLUMNS];
};

static char *owner_of(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return xstrdup("");
	struct passwd *pw = getpwuid(st.st_uid);
	return pw ? xstrdup(pw->pw_name) : xasprintf("#%u", (unsigned) st.st_uid);
}

/* The created time in local time, as runc's table prints it. */
static char *local_created(const char *utc)
{
	struct tm tm = { 0 };
	long nsec = 0;
	char *rest = strptime(utc, "%Y-%m-%dT%H:%M:%S", &tm);
	if (rest == NULL)
		return xstrdup(utc);
	if (*rest == '.') {
		char digits[10] = "000000000";
		rest++;
		for (int i = 0; i < 9 && rest[i] >= '0' && rest[i] <= '9'; i++)
			digits[i] = rest[i];
		nsec = strtol(digits, NULL, 10);
	}
	struct timespec ts = { .tv_sec = timegm(&tm), .tv_nsec = nsec };
	char buf[64];
	rune_format_rfc3339nano(&ts, false, buf, sizeof(buf));
	return xstrdup(buf);
}

/* Go's tabwriter(minwidth 12, tabwidth 1, padding 3): every column but the last padded. */
static void print_table(struct row *rows, size_t n)
{
	size_t w[LAST] = { 0 };
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < LAST; c++)
			if (strlen(rows[i].cells[c]) + 3 > w[c])
				w[c] = strlen(rows[i].cells[c]) + 3;
	for (int c = 0; c < LAST; c++)
		if (w[c] < 12)
			w[c] = 12;
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < LAST; c++)
			printf("%-*s", (int) w[c], rows[i].cells[c]);
		printf("%s\n", rows[i].cells[LAST]);
	}
}

int cmd_list(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	static const struct option opts[] = { { "format", required_argument, NULL, 'f' },
		                              { "quiet", no_argument, NULL, 'q' },
		                              { NULL, 0, NULL, 0 } };
	const char *format = "table";
	bool quiet = false;
	int ch;
	cleanup_strv char **ids = NULL;

	while ((ch = getopt_long_only(argc, argv, "+f:q", opts, NULL)) != -1) {
		if (ch == 'f')
			format = optarg;
		else if (ch == 'q')
			quiet = true;
		else
			return rune_error(err, 0, "list: invalid flags");
	}
	if (strcmp(format, "table") && strcmp(format, "json"))
		return rune_error(err, 0, "invalid format option");
	if (librune_container_list_ids(cli->root, &ids, err) < 0)
		return -1;
	if (quiet) {
		for (char **id = ids; *id; id++)
			printf("%s\n", *id);
		return 0;
	}
	bool json = strcmp(format, "json") == 0;
	yajl_gen gen = json ? rune_json_gen_new(false, NULL) : NULL;
	size_t n = rune_strv_len(ids), nrows = 1;
	struct row *rows = xcalloc(n + 1, sizeof(*rows));
	const char *hdr[COLUMNS] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER" };
	for (int c = 0; c < COLUMNS; c++)
		rows[0].cells[c] = xstrdup(hdr[c]);
	if (gen)
		yajl_gen_array_open(gen);
	for (char **id = ids; *id; id++) {
		struct rune_container *c = NULL;
		rune_error_t e = NULL;
		if (librune_container_load(cli->root, *id, &c, &e) < 0) {
			rune_error_release(&e);
			continue; /* deleted while we listed */
		}
		enum rune_status s = librune_container_status(c);
		cleanup_free char *owner = owner_of(c->dir);
		if (gen) {
			librune_container_gen_state(c, s, owner, gen);
		} else {
			struct row *r = &rows[nrows++];
			r->cells[0] = xstrdup(c->id);
			r->cells[1] = xasprintf("%d", s == STATUS_STOPPED ? 0 : (int) c->pid);
			r->cells[2] = xstrdup(librune_status_name(s));
			r->cells[3] = xstrdup(c->bundle);
			r->cells[4] = local_created(c->created);
			r->cells[LAST] = xstrdup(owner);
		}
		librune_container_free(c);
	}
	if (gen && nrows == 1 && n == 0) {
		yajl_gen_free(gen);
		printf("null\n"); /* what runc's encoder prints for no containers */
	} else if (gen) {
		yajl_gen_array_close(gen);
		cli_print_json(gen);
	} else {
		print_table(rows, nrows);
	}
	for (size_t i = 0; i < nrows; i++)
		for (int c = 0; c < COLUMNS; c++)
			free(rows[i].cells[c]);
	free(rows);
	return 0;
}
