#include "sync.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "unixsock.h"

#define SYNC_HEADER      offsetof(struct sync_msg, fd)
#define PEER_TICK_MS     100
#define PEER_STUCK_TICKS 3

struct sync_wire {
	int type, value;
	char text[sizeof(((struct sync_msg *) 0)->text)];
};

static size_t sync_encode(struct sync_wire *w, enum sync_type type, int value, const char *text)
{
	memset(w, 0, SYNC_HEADER);
	w->type = type;
	w->value = value;
	if (text == NULL)
		return SYNC_HEADER;
	snprintf(w->text, sizeof(w->text), "%s", text);
	return SYNC_HEADER + strlen(w->text) + 1;
}

int librune_sync_send(int sock, enum sync_type type, int value, const char *text, rune_error_t *err)
{
	struct sync_wire w;
	size_t len = sync_encode(&w, type, value, text);
	return rune_send_msg(sock, &w, len, NULL, 0, "a message on the sync socket", err);
}

int librune_sync_report(int sock, enum sync_type type, int value, const char *text, int fd, rune_error_t *err)
{
	struct sync_wire w;
	size_t len = sync_encode(&w, type, value, text);
	if (fd >= 0)
		return rune_send_msg(sock, &w, len, &fd, 1, "a message to rune", err);
	ssize_t n;
	do
		n = write(sock, &w, len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t) len)
		return rune_error(err, n < 0 ? errno : EMSGSIZE, "send a message to rune");
	return 0;
}

int librune_sync_wait_peer(int sock, const struct sync_peer *peer, rune_error_t *err)
{
	/* Stopped or frozen for this many ticks in a row, not just passing through. */
	int stuck = 0;
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int r = poll(&p, 1, peer->pid > 0 ? PEER_TICK_MS : -1);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return rune_error(err, errno, "wait for the %s", peer->name);
		if (r < 0)
			continue;
		/* rune keeps signals blocked while it sets a process up (to forward
		 * them later); one that asks rune to stop ends the wait. */
		sigset_t stop;
		sigemptyset(&stop);
		sigaddset(&stop, SIGINT);
		sigaddset(&stop, SIGTERM);
		sigaddset(&stop, SIGHUP);
		sigaddset(&stop, SIGQUIT);
		int sig = sigtimedwait(&stop, NULL, &(struct timespec){ 0, 0 });
		if (sig > 0)
			return rune_error(err, EINTR, "interrupted by signal %d (%s) while waiting for the %s", sig,
			                  strsignal(sig), peer->name);
		/* Silent for a tick: is it still able to answer? */
		char state = 0;
		if (librune_proc_start_time(peer->pid, &state) == 0 || state == 'Z' || state == 'X')
			return 0; /* gone: the read sees the end of the stream */
		bool stopped = state == 'T';
		bool frozen = !peer->wait_if_frozen && peer->cgroup && librune_cgroup_is_frozen(peer->cgroup);
		stuck = stopped || frozen ? stuck + 1 : 0;
		if (stuck < PEER_STUCK_TICKS)
			continue;
		if (stopped)
			return rune_error(err, EDEADLK, "the %s (pid %d) is stopped and cannot answer", peer->name,
			                  (int) peer->pid);
		return rune_error(err, EDEADLK,
		                  "the %s (pid %d) is in a frozen cgroup and cannot answer (resume the container, "
		                  "or delete it)",
		                  peer->name, (int) peer->pid);
	}
}

int librune_sync_recv(int sock, const struct sync_peer *peer, struct sync_msg *m, rune_error_t *err)
{
	int fds[RUNE_MSG_MAX_FDS];
	size_t len = 0, nfds = 0;
	struct sync_wire wire;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (librune_sync_wait_peer(sock, peer, err) < 0)
		return -1;
	memset(&wire, 0, sizeof(wire));
	if (rune_recv_msg(sock, &wire, sizeof(wire) - 1, &len, fds, &nfds, "a message on the sync socket", err) < 0)
		return rune_error_wrap(err, "%s", peer->name);
	if (len == 0)
		return rune_error(err, 0, "%s exited unexpectedly", peer->name);
	if (len < SYNC_HEADER || nfds > 1) {
		for (size_t i = 0; i < nfds; i++)
			close(fds[i]);
		return rune_error(err, EPROTO, "malformed message from the %s", peer->name);
	}
	m->type = wire.type;
	m->value = wire.value;
	m->fd = nfds ? fds[0] : -1;
	memcpy(m->text, wire.text, sizeof(m->text) - 1);
	return 0;
}

int librune_sync_expect(int sock, const struct sync_peer *peer, enum sync_type want, struct sync_msg *m,
                        rune_error_t *err)
{
	if (librune_sync_recv(sock, peer, m, err) < 0)
		return -1;
	if (m->type == SYNC_ERROR)
		return rune_error(err, m->value, "%s", m->text);
	if (m->type != (int) want) {
		if (m->fd >= 0)
			close(m->fd);
		return rune_error(err, EPROTO, "unexpected message %d from the %s (wanted %d)", m->type, peer->name,
		                  want);
	}
	return 0;
}

void librune_sync_fail(int sock, rune_error_t err)
{
	/* The errno text is already in the message: value 0 keeps it from repeating.
	 * If even this send fails, rune sees the end of the stream instead. */
	librune_sync_report(sock, SYNC_ERROR, 0, err && err->msg ? err->msg : "unknown error", -1, NULL);
	_exit(1);
}

int librune_console_socket_connect(const char *path, int *fd, rune_error_t *err)
{
	return rune_connect_unix(path, fd, "--console-socket", err);
}

int librune_console_send_master(int sock, int master, rune_error_t *err)
{
	static const char name[] = "/dev/ptmx";
	return rune_send_msg(sock, name, sizeof(name) - 1, &master, 1, "the terminal", err);
}

int librune_console_recv_master(int sock, int *master, rune_error_t *err)
{
	return rune_recv_one_fd(sock, master, "the terminal", err);
}
