/* The message channel between rune and a container process it is setting up
 * (SOCK_SEQPACKET: one send is one message, a descriptor may ride along).
 *
 * rune never waits blindly on the other end: every receive by rune names its
 * peer (pid and cgroup), and a peer that has exited, is stopped, or sits in a
 * frozen cgroup ends the wait with an error saying so, since it will never
 * answer. */
#ifndef RUNE_SYNC_H
#define RUNE_SYNC_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup.h"
#include "dmz.h"
#include "error.h"

enum sync_type {
	SYNC_GO = 1,        /* rune -> child: ids mapped, cgroup joined, proceed; value = host pid */
	SYNC_RUNTIME_HOOKS, /* child -> rune: namespaces exist, run createRuntime hooks */
	SYNC_HOOKS_DONE,    /* rune -> child: hooks succeeded */
	SYNC_READY,         /* child -> rune: set up, waiting for start (or exec'ing) */
	SYNC_ERROR,         /* either way: failed, text follows */
	SYNC_ENCLAVE, /* child -> rune: PAL version; text "<measurement hex or -> <debug 0|1> <info JSON or nothing>" */
	SYNC_SECCOMP, /* child -> rune: the seccomp listener fd rides along */
	SYNC_EXEC_FAILED = DMZ_EXEC_FAILED, /* rune-exec -> rune: the workload's execve failed; value = errno */
};

struct sync_msg {
	int type;
	int value;
	int fd; /* the descriptor that came with the message, or -1 (the receiver owns it) */
	char text[3072];
};

/* The other end of a receive. */
struct sync_peer {
	const char *name;                 /* "container init", "exec'd process", "rune" */
	pid_t pid;                        /* 0: not watched (the child's view of rune) */
	const struct rune_cgroup *cgroup; /* checked for a freeze while waiting; may be NULL */
	bool wait_if_frozen;              /* `exec --ignore-paused`: a frozen peer is waited for */
};

/* rune to a child: send a message; text may be NULL. Never raises SIGPIPE. */
int librune_sync_send(int sock, enum sync_type type, int value, const char *text, rune_error_t *err);
/* A child to rune: the same, with fd (or -1) riding along. Plain write(2)
 * when there is no fd: the child may already be under the container's
 * seccomp filter, and write is the one syscall every workload keeps. */
int librune_sync_report(int sock, enum sync_type type, int value, const char *text, int fd, rune_error_t *err);
/* Receive one message; EOF and an unresponsive peer are errors naming it. */
int librune_sync_recv(int sock, const struct sync_peer *peer, struct sync_msg *m, rune_error_t *err);
/* Receive and require `want`; a SYNC_ERROR becomes the returned error. */
int librune_sync_expect(int sock, const struct sync_peer *peer, enum sync_type want, struct sync_msg *m,
                        rune_error_t *err);
/* In a child: report err to rune and exit(1). */
void librune_sync_fail(int sock, rune_error_t err) __attribute__((noreturn));
/* Wait until sock is readable, failing once the peer cannot answer any more. */
int librune_sync_wait_peer(int sock, const struct sync_peer *peer, rune_error_t *err);

/* The terminal: runc's console-socket protocol (the pty master with the
 * name "/dev/ptmx" as payload), over the socket a client gave us or our own. */
int librune_console_socket_connect(const char *path, int *fd, rune_error_t *err);
int librune_console_send_master(int sock, int master, rune_error_t *err);
int librune_console_recv_master(int sock, int *master, rune_error_t *err);

#endif
