/* Runtime log: text (logfmt as runc prints it) or JSON lines, to stderr or to
 * the --log file that containerd reads. */
#ifndef RUNE_LOG_H
#define RUNE_LOG_H

#include "error.h"

enum rune_log_level { RUNE_LOG_ERROR, RUNE_LOG_WARNING, RUNE_LOG_INFO, RUNE_LOG_DEBUG };

/* Configure logging; path NULL means stderr. Returns 0 or -1 with err set. */
int rune_log_init(const char *path, const char *format, int debug, rune_error_t *err);
/* Write one log entry at the given level (debug entries only with --debug). */
void rune_log(enum rune_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report a fatal error once: to the log and, when the log is a file, to stderr too. */
void rune_log_fatal(rune_error_t err);

#define log_debug(...)   rune_log(RUNE_LOG_DEBUG, __VA_ARGS__)
#define log_warning(...) rune_log(RUNE_LOG_WARNING, __VA_ARGS__)
#define log_info(...)    rune_log(RUNE_LOG_INFO, __VA_ARGS__)

#endif
