#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "util.h"

static int log_fd = -1;
static int log_json;
static int log_debug_on;

int rune_log_init(const char *path, const char *format, int debug, rune_error_t *err)
{
	log_debug_on = debug;
	if (format != NULL) {
		if (strcmp(format, "json") == 0)
			log_json = 1;
		else if (strcmp(format, "text") != 0)
			return rune_error(err, EINVAL, "--log-format: unknown format '%s' (want text or json)", format);
	}
	if (path != NULL && path[0] != '\0') {
		log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (log_fd < 0)
			return rune_error(err, errno, "open log file %s", path);
	}
	return 0;
}

static const char *level_name(enum rune_log_level l)
{
	switch (l) {
	case RUNE_LOG_ERROR:
		return "error";
	case RUNE_LOG_WARNING:
		return "warning";
	case RUNE_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static void emit(enum rune_log_level level, const char *msg)
{
	char ts[64];
	struct timespec now;
	int fd = log_fd >= 0 ? log_fd : 2;

	clock_gettime(CLOCK_REALTIME, &now);
	if (log_json) {
		yajl_gen g = rune_json_gen_new(false, NULL);
		const unsigned char *buf;
		size_t len;

		now.tv_nsec = 0;
		rune_format_rfc3339nano(&now, false, ts, sizeof(ts));
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "level", level_name(level));
		rune_json_gen_kv_str(g, "msg", msg);
		rune_json_gen_kv_str(g, "time", ts);
		yajl_gen_map_close(g);
		yajl_gen_get_buf(g, &buf, &len);
		cleanup_free char *line = xasprintf("%.*s\n", (int) len, buf);
		(void) rune_write_all(fd, line, strlen(line));
		yajl_gen_free(g);
	} else {
		/* logfmt, quoting as runc's logrus text formatter does. */
		cleanup_free char *q = xmalloc(strlen(msg) * 2 + 1);
		char *o = q;
		for (const char *p = msg; *p; p++) {
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o = '\0';
		rune_format_rfc3339nano(&now, false, ts, sizeof(ts));
		cleanup_free char *line = xasprintf("time=\"%s\" level=%s msg=\"%s\"\n", ts, level_name(level), q);
		(void) rune_write_all(fd, line, strlen(line));
	}
}

void rune_log(enum rune_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (level == RUNE_LOG_DEBUG && !log_debug_on)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg) {
		int saved = errno;
		emit(level, msg);
		errno = saved;
		free(msg);
	}
}

void rune_log_fatal(rune_error_t err)
{
	const char *msg = err && err->msg ? err->msg : "unknown error";
	emit(RUNE_LOG_ERROR, msg);
	if (log_fd >= 0) {
		cleanup_free char *line = xasprintf("%s\n", msg);
		(void) rune_write_all(2, line, strlen(line));
	}
}
