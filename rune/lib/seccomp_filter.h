/* linux.seccomp of the runtime-spec, through libseccomp: default action and
 * errno, architectures, flags, syscall rules with argument conditions, every
 * action including SCMP_ACT_NOTIFY (the listener fd goes to listenerPath). */
#ifndef RUNE_SECCOMP_FILTER_H
#define RUNE_SECCOMP_FILTER_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>

#include "error.h"

struct rune_seccomp;

/* Parse and check linux.seccomp (errors name the field); NULL v gives NULL. */
int librune_seccomp_parse(yajl_val v, struct rune_seccomp **out, rune_error_t *err);
void librune_seccomp_free(struct rune_seccomp *s);
/* listenerPath and listenerMetadata (may be NULL). */
const char *librune_seccomp_listener_path(const struct rune_seccomp *s);
const char *librune_seccomp_listener_metadata(const struct rune_seccomp *s);
/* Compile s's program ahead of the container process (which inherits it), from
 * the cache under state_root when a start made the same one before. */
int librune_seccomp_prepare(struct rune_seccomp *s, const char *state_root, rune_error_t *err);
/* Load the filter in the calling process (compiled now unless prepared); the
 * notify fd in *notify_fd (or -1). */
int librune_seccomp_install(const struct rune_seccomp *s, int *notify_fd, rune_error_t *err);
/* In a container process: load s; a listener fd is handed to rune over sync_fd
 * (the process cannot reach host paths any more). */
int librune_seccomp_load_and_hand_over(const struct rune_seccomp *s, int sync_fd, rune_error_t *err);
/* In rune: send the listener fd that came over the sync socket to
 * listenerPath with the container process state (runtime-spec
 * "containerProcessState"). */
int librune_seccomp_forward_listener(const struct rune_seccomp *s, int listener_fd, int pid, const char *state,
                                     rune_error_t *err);
/* The names of every action, flag and comparison this build knows, for `features`. */
extern const char *const librune_seccomp_action_names[];
extern const char *const librune_seccomp_operator_names[];
extern const char *const librune_seccomp_flag_names[];
extern const char *const librune_seccomp_arch_names[];

static inline void seccomp_freep(struct rune_seccomp **s)
{
	if (*s)
		librune_seccomp_free(*s);
}
#define cleanup_seccomp __attribute__((cleanup(seccomp_freep)))

#endif
