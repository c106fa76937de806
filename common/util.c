#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

void rune_oom(void)
{
	static const char msg[] = "rune: out of memory\n";
	(void) !write(2, msg, sizeof(msg) - 1);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		rune_oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		rune_oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		rune_oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *r;
	if (s == NULL)
		return NULL;
	r = strdup(s);
	if (r == NULL)
		rune_oom();
	return r;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;
	if (vasprintf(&s, fmt, ap) < 0)
		rune_oom();
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

size_t rune_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

void rune_strv_append(char ***v, const char *s)
{
	size_t n = rune_strv_len(*v);
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

const char *rune_env_lookup(char *const *env, const char *name)
{
	size_t n = strlen(name);
	for (; env && *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

int rune_read_fd_all(int fd, const char *what, size_t max_bytes, char **out, size_t *len, rune_error_t *err)
{
	size_t cap = 4096, n = 0;
	cleanup_free char *buf = xmalloc(cap + 1);

	for (;;) {
		if (n == cap) {
			if (cap >= max_bytes)
				return rune_error(err, EFBIG, "%s: larger than the limit of %zu bytes", what,
				                  max_bytes);
			cap = cap * 2 > max_bytes ? max_bytes : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return rune_error(err, errno, "read %s", what);
		}
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	*out = take_ptr(buf);
	return 0;
}

int rune_read_file(const char *path, size_t max_bytes, char **out, size_t *len, rune_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rune_error(err, errno, "open %s", path);
	return rune_read_fd_all(fd, path, max_bytes, out, len, err);
}

int rune_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= w;
	}
	return 0;
}

static int write_file_renamed(const char *path, const void *data, size_t len, mode_t mode, bool sync, rune_error_t *err)
{
	cleanup_free char *tmp = xasprintf("%s.tmp-%d", path, (int) getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return rune_error(err, errno, "create %s", tmp);
	if (rune_write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0)) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return rune_error(err, e, "write %s", tmp);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return rune_error(err, e, "rename %s to %s", tmp, path);
	}
	return 0;
}

int rune_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, rune_error_t *err)
{
	return write_file_renamed(path, data, len, mode, true, err);
}

int rune_write_file_replace(const char *path, const void *data, size_t len, mode_t mode, rune_error_t *err)
{
	return write_file_renamed(path, data, len, mode, false, err);
}

int rune_mkdir_p(const char *path, mode_t mode, rune_error_t *err)
{
	/* The parent usually exists: one mkdir, not one failing per component. */
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return rune_error(err, errno, "mkdir %s", path);
	cleanup_free char *parent = xstrdup(path);
	char *slash = strrchr(parent, '/');
	while (slash && slash > parent && slash[1] == '\0') { /* "a/b/": the parent of a/b */
		*slash = '\0';
		slash = strrchr(parent, '/');
	}
	if (slash == NULL || slash == parent)
		return rune_error(err, ENOENT, "mkdir %s", path);
	*slash = '\0';
	if (rune_mkdir_p(parent, mode, err) < 0)
		return -1;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return rune_error(err, errno, "mkdir %s", path);
	return 0;
}

void rune_format_rfc3339nano(const struct timespec *ts, bool utc, char *buf, size_t len)
{
	struct tm tm;
	char date[64], frac[16] = "", zone[40];

	if (utc)
		gmtime_r(&ts->tv_sec, &tm);
	else
		localtime_r(&ts->tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ts->tv_nsec) {
		snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
		for (size_t i = strlen(frac) - 1; frac[i] == '0'; i--)
			frac[i] = '\0';
	}
	if (utc || tm.tm_gmtoff == 0) {
		strcpy(zone, "Z");
	} else {
		long off = tm.tm_gmtoff / 60;
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60);
	}
	snprintf(buf, len, "%s%s%s", date, frac, zone);
}

char *rune_absolute_path(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	cleanup_free char *cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return xstrdup(path); /* the cwd is gone: the caller's open will say so */
	return xasprintf("%s/%s", cwd, path);
}

bool rune_parse_ulong(const char *s, unsigned long *out)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}
