/* Deliberately defective enclave runtimes, for rune's error paths:
 * -DBROKEN_NOKILL: claims API v2 but has no pal_kill;
 * -DBROKEN_V4: claims API v4, which rune does not speak. */
#define EXPORT __attribute__((visibility("default")))

struct attr {
	const char *args, *log_level;
};

EXPORT int pal_get_version(void)
{
#ifdef BROKEN_V4
	return 4;
#else
	return 2;
#endif
}

EXPORT int pal_init(const struct attr *a)
{
	return a ? 0 : -22;
}

EXPORT int pal_create_process(void *args)
{
	return -38;
}

EXPORT int pal_exec(void *args)
{
	return -38;
}

#ifndef BROKEN_NOKILL
EXPORT int pal_kill(int pid, int sig)
{
	return -38;
}
#endif

EXPORT int pal_destroy(void)
{
	return 0;
}
