/* Waiting on processes that are not our children (a container's init seen
 * by a later rune command) through pidfds, which glibc 2.36 does not wrap. */
#ifndef RUNE_PIDFD_H
#define RUNE_PIDFD_H

#include <stdbool.h>
#include <sys/types.h>

/* pidfd_open(2): a close-on-exec pidfd, or -1 and errno. */
int rune_pidfd_open(pid_t pid);
/* Wait up to timeout_ms (-1: forever) for the process behind pidfd to exit;
 * true once it has. EINTR is retried with the time left. */
bool rune_pidfd_wait(int pidfd, int timeout_ms);

#endif
