/* Starting a process inside namespaces: new ones through clone(2), existing
 * ones through setns(2) in a short-lived intermediate process, so that pid and
 * user namespaces take effect. The new process is always rune's own child. */
#ifndef RUNE_SPAWN_H
#define RUNE_SPAWN_H

#include <sys/types.h>

#include "oci_config.h"
#include "error.h"

/* Join the namespaces in ns_fds (indexed by enum rune_ns_kind, -1 = skip),
 * then clone with clone_flags. Returns like fork: 0 in the child, the pid in
 * the parent, -1 on error. */
pid_t librune_spawn_in_namespaces(const int ns_fds[NS_KINDS], int clone_flags, bool new_time_ns,
                                  const char *time_offsets, rune_error_t *err);

#endif
