/* What sealing a fresh memfd copy of a binary costs (rune's sealed copy and
 * rune-exec, rune/lib/sealed_exe.h), with F_SEAL_WRITE against
 * F_SEAL_FUTURE_WRITE, the two seals that refuse writes to a memfd nobody has
 * mapped. F_SEAL_WRITE first waits for every page to have no reference but
 * the page cache's, and the pages just written sit in per-CPU LRU batches:
 * the wait is what this measures, and how often it ends in EBUSY.
 * Usage: memfd-seal FILE COPIES WORKERS — WORKERS processes at once, each
 * copying FILE COPIES times with sendfile (as rune does) and sealing it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

struct result {
	long copies, busy, over_5ms;
	double total_ms, max_ms;
};

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void worker(const char *file, long copies, int seal, struct result *r)
{
	for (long i = 0; i < copies; i++) {
		int in = open(file, O_RDONLY | O_CLOEXEC), m = memfd_create("seal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		struct stat st;
		if (in < 0 || m < 0 || fstat(in, &st) < 0) {
			perror(file);
			exit(1);
		}
		for (off_t left = st.st_size; left > 0;) {
			ssize_t n = sendfile(m, in, NULL, (size_t) left);
			if (n <= 0) {
				perror("sendfile");
				exit(1);
			}
			left -= n;
		}
		double t = now_ms();
		int rc = fcntl(m, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | seal);
		double ms = now_ms() - t;
		if (rc < 0 && errno != EBUSY) {
			perror("F_ADD_SEALS");
			exit(1);
		}
		r->copies++;
		r->busy += rc < 0;
		r->over_5ms += ms > 5;
		r->total_ms += ms;
		r->max_ms = ms > r->max_ms ? ms : r->max_ms;
		close(m);
		close(in);
	}
}

static void run(const char *name, const char *file, long copies, int workers, int seal)
{
	struct result *rs =
	    mmap(NULL, sizeof(*rs) * (size_t) workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rs == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	for (int w = 0; w < workers; w++)
		if (fork() == 0) {
			worker(file, copies, seal, &rs[w]);
			_exit(0);
		}
	while (wait(NULL) > 0)
		;
	struct result t = { 0 };
	for (int w = 0; w < workers; w++) {
		t.copies += rs[w].copies;
		t.busy += rs[w].busy;
		t.over_5ms += rs[w].over_5ms;
		t.total_ms += rs[w].total_ms;
		t.max_ms = rs[w].max_ms > t.max_ms ? rs[w].max_ms : t.max_ms;
	}
	printf("| %s | %ld | %.3f | %.1f | %ld | %ld |\n", name, t.copies, t.total_ms / (double) t.copies, t.max_ms,
	       t.over_5ms, t.busy);
	munmap(rs, sizeof(*rs) * (size_t) workers);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s FILE COPIES WORKERS\n", argv[0]);
		return 2;
	}
	long copies = atol(argv[2]);
	int workers = atoi(argv[3]);
	printf("| seal | copies | mean [ms] | max [ms] | over 5 ms | EBUSY |\n|:---|---:|---:|---:|---:|---:|\n");
	run("F_SEAL_WRITE", argv[1], copies, workers, F_SEAL_WRITE);
	run("F_SEAL_FUTURE_WRITE", argv[1], copies, workers, F_SEAL_FUTURE_WRITE);
	return 0;
}
