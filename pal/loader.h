/* Loading an enclave runtime (a PAL shared object) and calling it by the
 * version it reports, with errors that say which step failed and how. */
#ifndef RUNE_PAL_LOADER_H
#define RUNE_PAL_LOADER_H

#include <stdbool.h>

#include "error.h"
#include "pal.h"

struct pal_runtime {
	void *dl;
	char *path;
	int version;
	pal_get_version_fn get_version;
	union {
		pal_init_v1_fn v1;
		pal_init_v3_fn v3;
	} init;
	union {
		pal_exec_v1_fn v1;
		pal_exec_v2_fn v2;
	} exec;
	pal_create_process_fn create_process;
	pal_kill_fn kill;
	pal_get_local_report_fn get_local_report;
	pal_destroy_fn destroy;
};

/* Check, without loading it, that path is a shared object rune could load. */
int pal_runtime_check_file(const char *path, rune_error_t *err);
/* dlopen path, learn its version, resolve the symbols that version requires. */
int pal_runtime_open(const char *path, const char *args, struct pal_runtime *rt, rune_error_t *err);
/* pal_init with args and log_level (fd -1, addr 0 for v3). */
int pal_runtime_init(struct pal_runtime *rt, const char *args, const char *log_level, rune_error_t *err);
/* Run argv in the enclave to completion (v1 pal_exec, or create_process + exec);
 * the wait status in *status. on_created, when set, sees the pid first (v2+). */
int pal_runtime_run(struct pal_runtime *rt, char *const argv[], char *const env[], const int stdio[3],
                    void (*on_created)(int pid, void *data), void *data, int *status, rune_error_t *err);
/* v2+: create a process (not running yet). */
int pal_runtime_create(struct pal_runtime *rt, char *const argv[], char *const env[], const int stdio[3], int *pid,
                       rune_error_t *err);
/* v2+: run a created process and wait; its wait status in *status. */
int pal_runtime_exec(struct pal_runtime *rt, int pid, int *status, rune_error_t *err);
/* v2+: pal_kill; the PAL's return code is returned. */
int pal_runtime_kill(struct pal_runtime *rt, int pid, int sig);
/* v3: measurement (32 bytes of MRENCLAVE) and attribute flags of a report with zero report data. */
int pal_runtime_measurement(struct pal_runtime *rt, unsigned char mr[32], unsigned long long *flags, rune_error_t *err);
/* pal_destroy; the PAL's return code. */
int pal_runtime_destroy(struct pal_runtime *rt);
/* The runtime's pal_get_info JSON object into buf, or "" when it has none. */
void pal_runtime_info(struct pal_runtime *rt, char *buf, size_t len);
/* The exit code a wait(2)-encoded status stands for (code, or 128 + signal). */
int pal_runtime_exit_code(int status);
/* One of trace debug info warning error fatal panic off; anything else is info. */
const char *pal_runtime_log_level(const char *level);

#endif
