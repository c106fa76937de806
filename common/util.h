/* Small utilities shared by every component: memory that aborts on OOM, file
 * I/O with errors that name the path, time formatting. */
#ifndef RUNE_UTIL_H
#define RUNE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "array.h"
#include "error.h"

/* Abort with a message: memory exhaustion is not a recoverable error here. */
void rune_oom(void) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Number of entries in a NULL-terminated vector. */
size_t rune_strv_len(char *const *v);
/* Append a copy of s to a NULL-terminated vector, growing it. */
void rune_strv_append(char ***v, const char *s);
/* The value of NAME in a NULL-terminated "NAME=value" vector, or NULL. */
const char *rune_env_lookup(char *const *env, const char *name);

/* Read a whole file (NUL-terminated) of at most max_bytes. */
int rune_read_file(const char *path, size_t max_bytes, char **out, size_t *len, rune_error_t *err);
/* Read all of fd up to max_bytes (NUL-terminated); `what` names it in errors. */
int rune_read_fd_all(int fd, const char *what, size_t max_bytes, char **out, size_t *len, rune_error_t *err);
/* Write all bytes, retrying on EINTR and short writes; returns 0 or -1 with errno. */
int rune_write_all(int fd, const void *buf, size_t len);
/* Write a file through a temporary and rename(2), so readers never see half
 * of it; synced first, so a crash of the machine never leaves it empty. */
int rune_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, rune_error_t *err);
/* The same without the fsync: for what does not outlive the boot (rune's
 * state root is a tmpfs), where the rename alone is what readers need. */
int rune_write_file_replace(const char *path, const void *data, size_t len, mode_t mode, rune_error_t *err);
/* Create a directory and its parents; existing directories are fine. */
int rune_mkdir_p(const char *path, mode_t mode, rune_error_t *err);

/* RFC 3339 with nanoseconds in UTC, trailing zeros trimmed as Go's RFC3339Nano. */
void rune_format_rfc3339nano(const struct timespec *ts, bool utc, char *buf, size_t len);

/* path made absolute against the current directory (a copy either way), so it
 * keeps meaning what the caller meant after a chdir. */
char *rune_absolute_path(const char *path);

/* Parse a non-negative decimal integer; false on junk or overflow. */
bool rune_parse_ulong(const char *s, unsigned long *out);

#endif
