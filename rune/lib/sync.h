/* The message channel between rune and a container process it is setting up
 * (SOCK_SEQPACKET: one send is one message). */
#ifndef RUNE_SYNC_H
#define RUNE_SYNC_H

#include "error.h"

enum sync_type {
	SYNC_GO = 1,        /* rune -> child: ids mapped, cgroup joined, proceed */
	SYNC_RUNTIME_HOOKS, /* child -> rune: namespaces exist, run createRuntime hooks */
	SYNC_HOOKS_DONE,    /* rune -> child: hooks succeeded */
	SYNC_READY,         /* child -> rune: set up, waiting for start (or exec'ing) */
	SYNC_ERROR,         /* either way: failed, text follows */
	SYNC_ENCLAVE,       /* child -> rune: PAL version; text "<measurement hex or -> <debug 0|1>" */
	SYNC_SECCOMP,       /* child -> rune: a seccomp listener fd follows (SCM_RIGHTS) */
};

struct sync_msg {
	int type;
	int value;
	char text[3072];
};

/* Send a message; text may be NULL. */
int sync_send(int fd, enum sync_type type, int value, const char *text);
/* Receive one message; EOF is reported as an error naming `peer`. */
int sync_recv(int fd, struct sync_msg *m, const char *peer, rune_error_t *err);
/* Receive and require `want`; a SYNC_ERROR becomes the returned error. */
int sync_expect(int fd, enum sync_type want, const char *peer, rune_error_t *err);
/* In a child: report err to rune and exit(1). */
void sync_fail(int fd, rune_error_t err) __attribute__((noreturn));

/* Send fd over a unix socket with SCM_RIGHTS and `name` as the payload. */
int send_fd(int sock, int fd, const char *name, rune_error_t *err);
/* Receive one fd sent by send_fd. */
int recv_fd(int sock, int *fd, rune_error_t *err);

/* Connect to the client's --console-socket (a unix stream socket path). */
int console_socket_connect(const char *path, int *fd, rune_error_t *err);

#endif
