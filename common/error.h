/* rune error convention: functions return 0 or a negative value and fill an
 * error object carrying errno and a message; callers prepend context as the
 * error travels up, and only the top level prints it. */
#ifndef RUNE_ERROR_H
#define RUNE_ERROR_H

#include <stdarg.h>

struct rune_error_s {
	int status; /* errno of the root cause, 0 if none */
	char *msg;
};
typedef struct rune_error_s *rune_error_t;

/* Fill *err with "fmt: strerror(errnum)" (no suffix when errnum is 0); returns -1. */
int rune_error(rune_error_t *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepend "fmt: " to the message already in *err; returns -1. */
int rune_error_wrap(rune_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Free the error and reset *err to NULL. */
void rune_error_release(rune_error_t *err);

/* Move the error from *src into *dst (dst must be empty); returns -1. */
int rune_error_move(rune_error_t *dst, rune_error_t *src);

#endif
