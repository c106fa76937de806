/* liberpal-skeleton-v1/v2/v3: the smallest enclave runtimes that implement
 * each PAL API version, built from this one file with -DSKELETON_VERSION=N.
 * They run the workload as ordinary processes: a reference for the ABI and
 * for testing rune's driver, not an enclave. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "pal.h"
#include "palproc.h"

#ifndef SKELETON_VERSION
#error "build with -DSKELETON_VERSION=1, 2 or 3"
#endif

#define PAL_EXPORT __attribute__((visibility("default")))

static bool initialized;

static int skeleton_init(const struct pal_attr_t *attr)
{
	if (attr == NULL)
		return -EINVAL;
	if (initialized)
		return -EBUSY;
	pal_log_setup("liberpal-skeleton", attr->log_level);
	pal_log(PAL_LOG_DEBUG, "pal_init (API v%d), args \"%s\"", SKELETON_VERSION, attr->args ? attr->args : "");
	/* A test hook: rune must report a failing pal_init with its code. */
	if (attr->args && strcmp(attr->args, "fail-init") == 0)
		return -EPERM;
	initialized = true;
	return 0;
}

#if SKELETON_VERSION == 1
PAL_EXPORT int pal_init(const struct pal_attr_t *attr)
{
	return skeleton_init(attr);
}

PAL_EXPORT int pal_exec(char *path, char *argv[], struct pal_stdio_fds *stdio, int *exit_code)
{
	int pid, r;
	if (!initialized)
		return -EINVAL;
	/* v1 carries no environment: the workload gets the one rune gave the init. */
	r = palproc_create(path, (const char **) argv, (const char **) environ, stdio, &pid);
	return r < 0 ? r : palproc_exec(pid, exit_code);
}
#else
PAL_EXPORT int pal_get_version(void)
{
	return SKELETON_VERSION;
}

#if SKELETON_VERSION == 2
PAL_EXPORT int pal_init(const struct pal_attr_t *attr)
{
	return skeleton_init(attr);
}
#else
PAL_EXPORT int pal_init(const struct pal_attr_v3_t *attr)
{
	if (attr == NULL)
		return -EINVAL;
	if (attr->fd >= 0)
		return -ENOTSUP; /* no enclave pool to adopt from */
	return skeleton_init(&attr->attr_v1);
}

PAL_EXPORT int pal_get_local_report(void *targetinfo, int targetinfo_len, void *report, int *report_len)
{
	if (!initialized || targetinfo == NULL || targetinfo_len < PAL_SGX_TARGETINFO_SIZE || report == NULL
	    || report_len == NULL || *report_len < PAL_SGX_REPORT_SIZE)
		return -EINVAL;
	/* No enclave, no measurement: zeros, the report data echoed, DEBUG set. */
	unsigned char data[PAL_SGX_REPORT_DATA_SIZE];
	unsigned long long flags = PAL_SGX_FLAGS_INIT | PAL_SGX_FLAGS_DEBUG | PAL_SGX_FLAGS_MODE64BIT;
	memcpy(data, (char *) report + PAL_SGX_REPORT_DATA_OFFSET, sizeof(data));
	memset(report, 0, PAL_SGX_REPORT_SIZE);
	memcpy((char *) report + PAL_SGX_REPORT_ATTRIBUTES_OFFSET, &flags, sizeof(flags));
	memcpy((char *) report + PAL_SGX_REPORT_DATA_OFFSET, data, sizeof(data));
	*report_len = PAL_SGX_REPORT_SIZE;
	return 0;
}
#endif

PAL_EXPORT int pal_create_process(struct pal_create_process_args *args)
{
	if (!initialized || args == NULL)
		return -EINVAL;
	return palproc_create(args->path, args->argv, args->env, args->stdio, args->pid);
}

PAL_EXPORT int pal_exec(struct pal_exec_args *args)
{
	if (!initialized || args == NULL)
		return -EINVAL;
	return palproc_exec(args->pid, args->exit_value);
}

PAL_EXPORT int pal_kill(int pid, int sig)
{
	if (!initialized)
		return -EINVAL;
	return palproc_kill(pid, sig);
}
#endif

PAL_EXPORT int pal_destroy(void)
{
	if (!initialized)
		return -EINVAL;
	pal_log(PAL_LOG_DEBUG, "pal_destroy");
	palproc_destroy();
	initialized = false;
	return 0;
}
