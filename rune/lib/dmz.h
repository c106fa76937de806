/* rune-exec, the container's last step before its workload (CVE-2019-5736).
 *
 * A container process is a fork of rune: until it execs, /proc/<pid>/exe is
 * the host's rune binary, and a workload that is a script starting with
 * "#!/proc/self/exe" would make the kernel run that binary inside the
 * container, where the container could then open it for writing. So the
 * process never execs its workload itself: it execs rune-exec, a program of a
 * few hundred bytes kept in a sealed memfd (nobody can write it), which execs
 * the workload. Until then the process is not dumpable, so the container
 * cannot open /proc/<pid>/exe either. rune-exec makes no other system call
 * than the ones below, all of which a workload's own start makes too, so a
 * seccomp profile that lets the workload start lets rune-exec run.
 *
 * Its command line, which /proc/<pid>/cmdline shows for those microseconds:
 *   rune-exec STATUS-FD PATH ARG0 ARG1 ...
 * It marks STATUS-FD close-on-exec (fcntl; closes it instead if that is
 * refused, so the workload never inherits it), calls execve(PATH, ARG0..., its
 * environment); if that fails, writes one struct dmz_status to STATUS-FD
 * (write) and exits 127 (exit_group). Whoever reads STATUS-FD's other end
 * sees the end of the stream when the workload started, or the errno. */
#ifndef RUNE_DMZ_H
#define RUNE_DMZ_H

#define DMZ_EXEC_FAILED 8 /* = SYNC_EXEC_FAILED: the status is a sync message */

struct dmz_status {
	int type;  /* DMZ_EXEC_FAILED */
	int value; /* execve's errno */
};

#ifndef RUNE_DMZ_PROGRAM
#include <stdbool.h>

#include "error.h"

/* A sealed memfd holding rune-exec (close-on-exec; execveat needs nothing
 * else). */
int librune_dmz_open(int *fd, rune_error_t *err);
/* Exec path with args and env through rune-exec; status_fd gets the errno if
 * the workload's exec fails — if it stays open across this exec: the caller
 * clears its close-on-exec flag (librune_process_prepare_fds), before the
 * seccomp filter where it can, since the filter may refuse fcntl. Returns
 * only if rune-exec itself could not be exec'd. */
int librune_dmz_exec(int dmz_fd, int status_fd, const char *path, char *const args[], char *const env[],
                     rune_error_t *err);
#endif

#endif
