/* Per-layer progress on a terminal: one line per blob, redrawn in place. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image_cli.h"
#include "util.h"

struct line {
	char digest[24];
	int64_t done, total;
	int state;
	double start;
};

static struct {
	struct line *lines;
	size_t n, drawn;
	bool on;
	double last_draw;
} P;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void human(double b, char *out, size_t len)
{
	const char *unit[] = { "B", "KB", "MB", "GB", "TB" };
	int u = 0;
	while (b >= 1000 && u < 4) {
		b /= 1000;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static void draw(bool force)
{
	double t = now();
	if (!force && t - P.last_draw < 0.1)
		return;
	P.last_draw = t;
	if (P.drawn)
		fprintf(stderr, "\033[%zuA", P.drawn);
	for (size_t i = 0; i < P.n; i++) {
		struct line *l = &P.lines[i];
		char done[32], total[32], rate[32] = "";
		human(l->done, done, sizeof(done));
		human(l->total, total, sizeof(total));
		static const char *const states[] = { "waiting", "downloading", "cached", "downloaded", "unpacked" };
		if (l->state == 1 && t > l->start) {
			human(l->done / (t - l->start), rate, sizeof(rate));
			strcat(rate, "/s");
		}
		fprintf(stderr, "\033[2K%s  %-11s %10s / %-10s %s\n", l->digest, states[l->state], done, total, rate);
	}
	P.drawn = P.n;
	fflush(stderr);
}

static void on_progress(const struct image_progress *p, void *data)
{
	size_t i;
	for (i = 0; i < P.n; i++)
		if (strncmp(P.lines[i].digest, p->digest, 19) == 0)
			break;
	if (i == P.n) {
		P.lines = xrealloc(P.lines, (P.n + 1) * sizeof(*P.lines));
		memset(&P.lines[i], 0, sizeof(P.lines[i]));
		snprintf(P.lines[i].digest, 20, "%s", p->digest);
		P.lines[i].start = now();
		P.n++;
	}
	P.lines[i].done = p->done;
	P.lines[i].total = p->total;
	P.lines[i].state = p->state;
	draw(p->state != PROGRESS_DOWNLOADING);
}

void cli_progress_attach(struct image_cli *c)
{
	if (c->quiet || c->json || !isatty(2))
		return;
	P.on = true;
	c->o.progress = on_progress;
}

void cli_progress_done(void)
{
	if (P.on && P.n)
		draw(true);
	free(P.lines);
	memset(&P, 0, sizeof(P));
}
