/* Messages with file descriptors over unix sockets (SCM_RIGHTS): the one
 * implementation behind rune's sync socket, the enclave exec socket, the
 * console socket and the seccomp agent hand-over. */
#ifndef RUNE_UNIXSOCK_H
#define RUNE_UNIXSOCK_H

#include <stddef.h>

#include "error.h"

/* The most descriptors one message carries. */
#define RUNE_MSG_MAX_FDS 3

/* Send buf (len bytes, len > 0) with nfds descriptors attached, retrying on
 * EINTR; never raises SIGPIPE. what names the message in errors. */
int rune_send_msg(int sock, const void *buf, size_t len, const int *fds, size_t nfds, const char *what,
                  rune_error_t *err);

/* Receive one message into buf (at most cap bytes) and the descriptors it
 * carries (close-on-exec, up to RUNE_MSG_MAX_FDS, their number in *nfds).
 * *len is 0 at end of stream. A message longer than cap or with more
 * descriptors than fit is an error, and whatever arrived with it is closed. */
int rune_recv_msg(int sock, void *buf, size_t cap, size_t *len, int fds[RUNE_MSG_MAX_FDS], size_t *nfds,
                  const char *what, rune_error_t *err);

/* Receive one message that must carry exactly one descriptor (a terminal's
 * master over a console socket); its bytes are ignored. */
int rune_recv_one_fd(int sock, int *fd, const char *what, rune_error_t *err);
/* The size of the next message on a SOCK_SEQPACKET socket, without taking it. */
int rune_peek_msg_size(int sock, size_t *size, const char *what, rune_error_t *err);

/* Connect a SOCK_STREAM unix socket to path; what names it in errors
 * ("--console-socket", "linux.seccomp.listenerPath"). */
int rune_connect_unix(const char *path, int *fd, const char *what, rune_error_t *err);

#endif
