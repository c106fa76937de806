/* The Enclave Runtime PAL API: the C ABI between an OCI runtime (rune) and an
 * enclave runtime (a LibOS, a WebAssembly runtime, an SGX SDK program) that
 * ships as a shared object. Versions 1-3, laid out exactly as the enclave
 * runtimes in the wild build against it: natural alignment, pointer members.
 * docs/pal.md specifies the calls and the order rune makes them in.
 *
 * Every function returns 0 on success and a negative value on failure
 * (usually -errno). */
#ifndef RUNE_PAL_H
#define RUNE_PAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The highest API version this header (and rune) speaks. */
#define PAL_VERSION_MAX 3

/* Arguments of pal_init for versions 1 and 2. */
struct pal_attr_t {
	const char *args;      /* runtime-specific, from enclave.runtime.args */
	const char *log_level; /* trace, debug, info, warning, error, fatal, panic or off */
};

/* Arguments of pal_init for version 3. */
struct pal_attr_v3_t {
	struct pal_attr_t attr_v1;
	int fd;        /* a pre-created enclave handed over by a pool manager, or -1 */
	uint64_t addr; /* its base address, or 0 */
};

/* The standard streams of an enclave process, as host fds. */
struct pal_stdio_fds {
	int stdin, stdout, stderr;
};

/* Arguments of pal_create_process (v2+). */
struct pal_create_process_args {
	const char *path;                  /* the program, as the enclave runtime names it */
	const char **argv;                 /* NULL-terminated, argv[0] included */
	const char **env;                  /* NULL-terminated */
	const struct pal_stdio_fds *stdio; /* the process's stdin/stdout/stderr */
	int *pid;                          /* out: the enclave-side pid */
};

/* Arguments of pal_exec (v2+). */
struct pal_exec_args {
	int pid;         /* from pal_create_process */
	int *exit_value; /* out: a wait(2)-encoded status */
};

/* The entry points, as function types. pal_init and pal_exec changed their
 * signatures between versions while keeping their names, so a PAL defines the
 * one of its version and a loader picks the type by pal_get_version(). */
typedef int (*pal_get_version_fn)(void);                         /* v2+; absent: version 1 */
typedef int (*pal_init_v1_fn)(const struct pal_attr_t *attr);    /* v1, v2: create the enclave */
typedef int (*pal_init_v3_fn)(const struct pal_attr_v3_t *attr); /* v3: create or adopt the enclave */
typedef int (*pal_exec_v1_fn)(char *path, char *argv[], struct pal_stdio_fds *stdio,
                              int *exit_code);                              /* v1: run to completion */
typedef int (*pal_create_process_fn)(struct pal_create_process_args *args); /* v2+: create, not run */
typedef int (*pal_exec_v2_fn)(struct pal_exec_args *args);                  /* v2+: run a created pid, wait */
typedef int (*pal_kill_fn)(int pid, int sig);                               /* v2+: >0 a pid, 0 current, -1 all */
typedef int (*pal_get_local_report_fn)(void *targetinfo, int targetinfo_len, void *report,
                                       int *report_len); /* v3: SGX-format local report */
typedef int (*pal_destroy_fn)(void);                     /* tear the enclave down */
/* Optional, any version (a rune extension, not in Inclavare's API): called
 * once right after dlopen, with the args pal_init will get, while the host's
 * filesystem is still visible (before pivot_root), so a runtime can load
 * what those args need. 0 or -errno. */
typedef int (*pal_preload_fn)(const char *args);
/* Optional, any version (a rune extension): after pal_init, a JSON object
 * describing what the enclave runs (image mode: the image, its manifest
 * digest, the policy that accepted it, the KBS) for `rune state`, into buf
 * (NUL-terminated, at most len bytes). 0, or -errno; absent = nothing to say. */
typedef int (*pal_get_info_fn)(char *buf, int len);
/* Optional, any version (a rune extension): after a call failed, why, in one
 * line for rune to print as its error (the runtime then logs nothing of its
 * own about it). 0 with buf set, or -errno / an empty buf when it has nothing. */
typedef int (*pal_last_error_fn)(char *buf, int len);

/* The version-independent entry points. */
/* v2+: the API version the runtime implements. */
int pal_get_version(void);
/* v2+: create a process in the enclave without running it; its pid in *args->pid. */
int pal_create_process(struct pal_create_process_args *args);
/* v2+: signal an enclave process: pid > 0 that one, 0 the current one, -1 all. */
int pal_kill(int pid, int sig);
/* v3: an SGX-format local report for targetinfo (512 bytes) into report (432
 * bytes); the caller's 64 bytes at PAL_SGX_REPORT_DATA_OFFSET are its report data. */
int pal_get_local_report(void *targetinfo, int targetinfo_len, void *report, int *report_len);
/* Tear the enclave down. */
int pal_destroy(void);
/* Optional (rune extension): see pal_preload_fn. */
int pal_preload(const char *args);
/* Optional (rune extension): see pal_get_info_fn. */
int pal_get_info(char *buf, int len);
/* Optional (rune extension): see pal_last_error_fn. */
int pal_last_error(char *buf, int len);

/* Sizes of the SGX structures pal_get_local_report works with. */
#define PAL_SGX_TARGETINFO_SIZE 512
#define PAL_SGX_REPORT_SIZE     432
/* Offsets inside an SGX REPORT (the body is its first 384 bytes). */
#define PAL_SGX_REPORT_ATTRIBUTES_OFFSET 48
#define PAL_SGX_REPORT_MRENCLAVE_OFFSET  64
#define PAL_SGX_REPORT_MRSIGNER_OFFSET   128
#define PAL_SGX_REPORT_DATA_OFFSET       320
#define PAL_SGX_REPORT_DATA_SIZE         64
#define PAL_SGX_REPORT_KEYID_OFFSET      384
/* SGX attribute flags. DEBUG marks an enclave whose memory is not protected. */
#define PAL_SGX_FLAGS_INIT      0x1ULL
#define PAL_SGX_FLAGS_DEBUG     0x2ULL
#define PAL_SGX_FLAGS_MODE64BIT 0x4ULL

/* The layouts real PALs are built against, pinned (LP64). */
#if defined(__x86_64__) || defined(__aarch64__)
_Static_assert(sizeof(struct pal_attr_t) == 16, "pal_attr_t");
_Static_assert(offsetof(struct pal_attr_t, log_level) == 8, "pal_attr_t.log_level");
_Static_assert(sizeof(struct pal_attr_v3_t) == 32, "pal_attr_v3_t");
_Static_assert(offsetof(struct pal_attr_v3_t, fd) == 16, "pal_attr_v3_t.fd");
_Static_assert(offsetof(struct pal_attr_v3_t, addr) == 24, "pal_attr_v3_t.addr");
_Static_assert(sizeof(struct pal_stdio_fds) == 12, "pal_stdio_fds");
_Static_assert(sizeof(struct pal_create_process_args) == 40, "pal_create_process_args");
_Static_assert(offsetof(struct pal_create_process_args, argv) == 8, "pal_create_process_args.argv");
_Static_assert(offsetof(struct pal_create_process_args, env) == 16, "pal_create_process_args.env");
_Static_assert(offsetof(struct pal_create_process_args, stdio) == 24, "pal_create_process_args.stdio");
_Static_assert(offsetof(struct pal_create_process_args, pid) == 32, "pal_create_process_args.pid");
_Static_assert(sizeof(struct pal_exec_args) == 16, "pal_exec_args");
_Static_assert(offsetof(struct pal_exec_args, exit_value) == 8, "pal_exec_args.exit_value");
#endif

#ifdef __cplusplus
}
#endif

#endif
