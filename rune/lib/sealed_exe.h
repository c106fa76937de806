/* CVE-2019-5736: a container must never reach the host's rune binary through
 * /proc/<pid>/exe of a rune process that entered it. A container process
 * normally execs its workload through rune-exec (dmz.h), and is not dumpable
 * until then. Where that is not enough — an enclave init never execs, and an
 * LSM exec label would apply to rune-exec instead of the workload — rune
 * first re-execs itself from a read-only overlayfs view of its binary (or a
 * sealed memfd copy), so every process it makes runs from a file nobody can
 * write, and execs its workload directly. */
#ifndef RUNE_SEALED_EXE_H
#define RUNE_SEALED_EXE_H

#include <stdbool.h>

#include "error.h"
#include "oci_config.h"

/* Seal a memfd rune is about to exec from (never mapped, so no writable
 * mapping exists): no write, no resize, no change of the seals themselves.
 * 0, or -1 with errno set. */
int librune_memfd_seal(int fd);
/* Whether fd is a memfd sealed as librune_memfd_seal seals. */
bool librune_memfd_sealed(int fd);

/* Unless already running from a sealed copy, re-exec argv from one (returns only on failure). */
int librune_sealed_exe_ensure(char **argv, rune_error_t *err);
/* Running from a sealed memfd or a read-only overlayfs (so no rune-exec step). */
bool librune_sealed_exe_running(void);
/* Whether process p (of a container configured by c, which may be NULL) needs
 * the re-exec: an enclave, an AppArmor profile or SELinux label, or asked for
 * with RUNE_REEXEC=1 or RUNE_SEALED_COPY=1 (the copy instead of the overlay). */
bool librune_sealed_exe_needed(const struct rune_config *c, const struct rune_process *p);

#endif
