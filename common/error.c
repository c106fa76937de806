#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

int rune_error(rune_error_t *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	if (msg != NULL && errnum != 0) {
		char *full = NULL, reason[128];
		/* Lower-case, as runc (Go) prints errno text: clients such as podman
		 * match "no such file or directory" and "permission denied". */
		snprintf(reason, sizeof(reason), "%s", strerror(errnum));
		if (reason[0] >= 'A' && reason[0] <= 'Z' && (reason[1] < 'A' || reason[1] > 'Z'))
			reason[0] = (char) (reason[0] - 'A' + 'a');
		if (asprintf(&full, "%s: %s", msg, reason) >= 0) {
			free(msg);
			msg = full;
		}
	}
	if (*err != NULL)
		rune_error_release(err);
	*err = calloc(1, sizeof(**err));
	if (*err == NULL) {
		free(msg);
		return -1;
	}
	(*err)->status = errnum;
	(*err)->msg = msg ? msg : strdup("out of memory");
	return -1;
}

int rune_error_wrap(rune_error_t *err, const char *fmt, ...)
{
	va_list ap;
	char *ctx, *full = NULL;

	if (err == NULL || *err == NULL)
		return -1;
	va_start(ap, fmt);
	ctx = vformat(fmt, ap);
	va_end(ap);
	if (ctx != NULL && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(ctx);
	return -1;
}

int rune_error_set_exit(rune_error_t *err, int code)
{
	if (err && *err)
		(*err)->exit_code = code;
	return -1;
}

int rune_error_set_status(rune_error_t *err, int status)
{
	if (err && *err)
		(*err)->status = status;
	return -1;
}

int rune_error_exit_code(rune_error_t err)
{
	return err && err->exit_code ? err->exit_code : 1;
}

void rune_error_release(rune_error_t *err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

int rune_error_move(rune_error_t *dst, rune_error_t *src)
{
	rune_error_release(dst);
	*dst = *src;
	*src = NULL;
	return -1;
}
