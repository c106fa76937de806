#include "loader.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

int pal_runtime_check_file(const char *path, rune_error_t *err)
{
	Elf64_Ehdr eh;
	struct stat st;

	if (path == NULL || path[0] != '/')
		return rune_error(err, EINVAL, "enclave runtime path \"%s\" must be an absolute host path",
		                  path ? path : "");
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rune_error(err, errno, "enclave runtime %s", path);
	if (fstat(fd, &st) < 0)
		return rune_error(err, errno, "enclave runtime %s", path);
	if (!S_ISREG(st.st_mode))
		return rune_error(err, EINVAL, "enclave runtime %s: not a regular file", path);
	ssize_t n = read(fd, &eh, sizeof(eh));
	if (n != (ssize_t) sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return rune_error(err, ENOEXEC, "enclave runtime %s: not an ELF file", path);
	if (eh.e_type != ET_DYN)
		return rune_error(err, ENOEXEC, "enclave runtime %s: not a shared object (ELF type %d)", path,
		                  (int) eh.e_type);
	return 0;
}

static int need(struct pal_runtime *rt, const char *name, void **fn, rune_error_t *err)
{
	*fn = dlsym(rt->dl, name);
	if (*fn == NULL)
		return rune_error(err, ENOSYS, "enclave runtime %s (PAL API v%d): required symbol %s is missing",
		                  rt->path, rt->version, name);
	return 0;
}

int pal_runtime_open(const char *path, const char *args, struct pal_runtime *rt, rune_error_t *err)
{
	memset(rt, 0, sizeof(*rt));
	if (pal_runtime_check_file(path, err) < 0)
		return -1;
	rt->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (rt->dl == NULL)
		return rune_error(err, ENOEXEC, "enclave runtime: dlopen: %s", dlerror());
	rt->path = xstrdup(path);
	rt->get_version = (pal_get_version_fn) dlsym(rt->dl, "pal_get_version");
	rt->version = rt->get_version ? rt->get_version() : 1;
	if (rt->version < 1)
		return rune_error(err, EINVAL, "enclave runtime %s: pal_get_version returned %d", path, rt->version);
	if (rt->version > PAL_VERSION_MAX)
		return rune_error(err, ENOTSUP, "enclave runtime %s implements PAL API v%d; rune supports v1 to v%d",
		                  path, rt->version, PAL_VERSION_MAX);
	void *init, *exec, *destroy, *create = NULL, *kill = NULL, *report = NULL;
	if (need(rt, "pal_init", &init, err) < 0 || need(rt, "pal_exec", &exec, err) < 0
	    || need(rt, "pal_destroy", &destroy, err) < 0)
		return -1;
	if (rt->version >= 2
	    && (need(rt, "pal_create_process", &create, err) < 0 || need(rt, "pal_kill", &kill, err) < 0))
		return -1;
	if (rt->version >= 3 && need(rt, "pal_get_local_report", &report, err) < 0)
		return -1;
	/* dlsym hands back object pointers; the PAL API defines what they point to. */
	rt->init.v1 = (pal_init_v1_fn) init;
	rt->exec.v1 = (pal_exec_v1_fn) exec;
	rt->destroy = (pal_destroy_fn) destroy;
	rt->create_process = (pal_create_process_fn) create;
	rt->kill = (pal_kill_fn) kill;
	rt->get_local_report = (pal_get_local_report_fn) report;
	/* rune's optional extension: a runtime that needs the host's files for
	 * what its arguments ask (libraries it loads only then) reads them now,
	 * before the container's root is entered. */
	pal_preload_fn preload = (pal_preload_fn) dlsym(rt->dl, "pal_preload");
	if (preload) {
		int r = preload(args ? args : "");
		if (r < 0)
			return rune_error(err, -r, "enclave runtime %s: pal_preload failed with %d", path, r);
	}
	return 0;
}

void pal_runtime_info(struct pal_runtime *rt, char *buf, size_t len)
{
	pal_get_info_fn info = rt->dl ? (pal_get_info_fn) dlsym(rt->dl, "pal_get_info") : NULL;
	buf[0] = '\0';
	if (info && (info(buf, (int) len) < 0 || memchr(buf, '\0', len) == NULL))
		buf[0] = '\0';
}

const char *pal_runtime_log_level(const char *level)
{
	static const char *const known[] = { "trace", "debug", "info", "warning", "error", "fatal", "panic", "off" };
	for (size_t i = 0; level && i < ARRAY_SIZE(known); i++)
		if (strcmp(level, known[i]) == 0)
			return known[i];
	return "info";
}

/* Most PALs return -errno; some return -1 and set errno (which the caller
 * cleared before the call), so show whichever the PAL meant. */
static int pal_failed(rune_error_t *err, struct pal_runtime *rt, const char *fn, int r, int saved_errno)
{
	int e = (r < 0 && r > -4096) ? -r : 0;
	if (r == -1 && saved_errno != 0)
		e = saved_errno;
	char why[1024] = "";
	pal_last_error_fn last = rt->dl ? (pal_last_error_fn) dlsym(rt->dl, "pal_last_error") : NULL;
	if (last && (last(why, (int) sizeof(why)) < 0 || memchr(why, '\0', sizeof(why)) == NULL))
		why[0] = '\0';
	if (why[0]) {
		rune_error(err, 0, "enclave runtime %s: %s: %s", rt->path, fn, why);
		return rune_error_set_status(err, e);
	}
	return rune_error(err, e, "enclave runtime %s: %s failed with %d", rt->path, fn, r);
}

#define PAL_CALL(r, call)                                                                                              \
	do {                                                                                                           \
		errno = 0;                                                                                             \
		(r) = (call);                                                                                          \
		saved = errno;                                                                                         \
	} while (0)

int pal_runtime_init(struct pal_runtime *rt, const char *args, const char *log_level, rune_error_t *err)
{
	struct pal_attr_v3_t a = { .attr_v1 = { .args = args ? args : "",
		                                .log_level = pal_runtime_log_level(log_level) },
		                   .fd = -1,
		                   .addr = 0 };
	int r, saved;
	PAL_CALL(r, rt->version >= 3 ? rt->init.v3(&a) : rt->init.v1(&a.attr_v1));
	if (r < 0)
		return pal_failed(err, rt, "pal_init", r, saved);
	return 0;
}

int pal_runtime_create(struct pal_runtime *rt, char *const argv[], char *const env[], const int stdio[3], int *pid,
                       rune_error_t *err)
{
	static const char *const empty[] = { NULL };
	struct pal_stdio_fds fds = { stdio[0], stdio[1], stdio[2] };
	struct pal_create_process_args a = { .path = argv[0],
		                             .argv = (const char **) argv,
		                             .env = env ? (const char **) env : (const char **) empty,
		                             .stdio = &fds,
		                             .pid = pid };
	if (rt->version < 2)
		return rune_error(err, ENOTSUP, "enclave runtime %s (PAL API v1) cannot create processes", rt->path);
	int r, saved;
	PAL_CALL(r, rt->create_process(&a));
	if (r < 0)
		return pal_failed(err, rt, "pal_create_process", r, saved);
	return 0;
}

int pal_runtime_exec(struct pal_runtime *rt, int pid, int *status, rune_error_t *err)
{
	struct pal_exec_args a = { .pid = pid, .exit_value = status };
	int r, saved;
	*status = 0;
	PAL_CALL(r, rt->exec.v2(&a));
	if (r < 0)
		return pal_failed(err, rt, "pal_exec", r, saved);
	return 0;
}

int pal_runtime_run(struct pal_runtime *rt, char *const argv[], char *const env[], const int stdio[3],
                    void (*on_created)(int pid, void *data), void *data, int *status, rune_error_t *err)
{
	int pid = -1;
	*status = 0;
	if (rt->version == 1) {
		struct pal_stdio_fds fds = { stdio[0], stdio[1], stdio[2] };
		int r, saved;
		PAL_CALL(r, rt->exec.v1(argv[0], (char **) argv, &fds, status));
		return r < 0 ? pal_failed(err, rt, "pal_exec", r, saved) : 0;
	}
	if (pal_runtime_create(rt, argv, env, stdio, &pid, err) < 0)
		return -1;
	if (on_created)
		on_created(pid, data);
	return pal_runtime_exec(rt, pid, status, err);
}

int pal_runtime_kill(struct pal_runtime *rt, int pid, int sig)
{
	return rt->kill ? rt->kill(pid, sig) : -ENOSYS;
}

int pal_runtime_measurement(struct pal_runtime *rt, unsigned char mr[32], unsigned long long *flags, rune_error_t *err)
{
	unsigned char ti[PAL_SGX_TARGETINFO_SIZE] = { 0 };
	unsigned char rep[PAL_SGX_REPORT_SIZE] = { 0 };
	int len = sizeof(rep);
	if (rt->get_local_report == NULL)
		return rune_error(err, ENOTSUP, "enclave runtime %s (PAL API v%d) gives no reports", rt->path,
		                  rt->version);
	int r, saved;
	PAL_CALL(r, rt->get_local_report(ti, sizeof(ti), rep, &len));
	if (r < 0)
		return pal_failed(err, rt, "pal_get_local_report", r, saved);
	memcpy(mr, rep + PAL_SGX_REPORT_MRENCLAVE_OFFSET, 32);
	memcpy(flags, rep + PAL_SGX_REPORT_ATTRIBUTES_OFFSET, sizeof(*flags));
	return 0;
}

int pal_runtime_destroy(struct pal_runtime *rt)
{
	return rt->destroy ? rt->destroy() : 0;
}

int pal_runtime_exit_code(int status)
{
	/* Only the low 16 bits are a wait status; anything wider came from a
	 * runtime that reports plain codes. */
	if (status & ~0xffff)
		return status & 0xff;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return status & 0xff;
}
