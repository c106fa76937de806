/* CVE-2019-5736: a container must never reach the host's rune binary through
 * /proc/<pid>/exe of a rune process that entered it. Commands that put
 * processes into containers first re-exec rune from a sealed memfd copy, so
 * every such process runs from a file nobody can write. */
#ifndef RUNE_SEALED_EXE_H
#define RUNE_SEALED_EXE_H

#include "error.h"

/* Unless already running from a sealed copy, re-exec argv from one (returns only on failure). */
int librune_sealed_exe_ensure(char **argv, rune_error_t *err);

#endif
