/* rune error convention: functions return 0 or a negative value and fill an
 * error object carrying errno, a message and the exit code the failure asks
 * for; callers prepend context as the error travels up, the place that knows
 * what kind of failure it is sets the exit code, and only the top level
 * prints it and exits with that code. */
#ifndef RUNE_ERROR_H
#define RUNE_ERROR_H

#include <stdarg.h>

struct rune_error_s {
	int status;    /* errno of the root cause, 0 if none */
	int exit_code; /* what the program exits with; 0 until classified (then 1) */
	char *msg;
};
typedef struct rune_error_s *rune_error_t;

/* Fill *err with "fmt: strerror(errnum)" (no suffix when errnum is 0); returns -1. */
int rune_error(rune_error_t *err, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepend "fmt: " to the message already in *err; returns -1. */
int rune_error_wrap(rune_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Classify the failure in *err: the program exits with code. Returns -1. */
int rune_error_set_exit(rune_error_t *err, int code);
/* Record errno status as the root cause without adding its text to the
 * message (when the message says it better, as "unknown field"). Returns -1. */
int rune_error_set_status(rune_error_t *err, int status);
/* The exit code err asks for: its own, or 1. */
int rune_error_exit_code(rune_error_t err);

/* Free the error and reset *err to NULL. */
void rune_error_release(rune_error_t *err);

/* Move the error from *src into *dst (dst must be empty); returns -1. */
int rune_error_move(rune_error_t *dst, rune_error_t *src);

#endif
