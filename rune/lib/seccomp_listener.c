/* SCMP_ACT_NOTIFY: the filter's listener fd travels from the container
 * process to rune, and from rune to the seccomp agent at listenerPath. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "json.h"
#include "seccomp_filter.h"
#include "sync.h"
#include "util.h"

int seccomp_load_and_hand_over(const struct rune_seccomp *s, int sync_fd, rune_error_t *err)
{
	int fd = -1;
	if (seccomp_install(s, &fd, err) < 0)
		return -1;
	if (fd < 0)
		return 0;
	int r = 0;
	if (sync_send(sync_fd, SYNC_SECCOMP, 0, NULL) < 0)
		r = rune_error(err, errno, "talk to rune");
	else if (send_fd(sync_fd, fd, "seccompFd", err) < 0)
		r = -1;
	close(fd);
	return r;
}

static char *process_state(const struct rune_seccomp *s, int pid, const char *state)
{
	yajl_gen g = json_gen_new(false, NULL);
	yajl_val st = NULL;
	rune_error_t ignored = NULL;
	static const char *const fds[] = { "seccompFd", NULL };
	const unsigned char *buf;
	size_t len;
	yajl_gen_map_open(g);
	json_gen_kv_str(g, "ociVersion", RUNE_OCI_VERSION);
	json_gen_key(g, "fds");
	json_gen_strv(g, fds);
	json_gen_kv_int(g, "pid", pid);
	json_gen_kv_str(g, "metadata", seccomp_listener_metadata(s) ? seccomp_listener_metadata(s) : "");
	if (json_parse(state, "state", &st, &ignored) == 0) {
		json_gen_key(g, "state");
		json_gen_value(g, st);
		yajl_tree_free(st);
	}
	rune_error_release(&ignored);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	char *out = xasprintf("%.*s", (int) len, buf);
	yajl_gen_free(g);
	return out;
}

int seccomp_forward_listener(const struct rune_seccomp *s, int sync_fd, int pid, const char *state, rune_error_t *err)
{
	cleanup_close int fd = -1, sock = -1;
	const char *path = seccomp_listener_path(s);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (recv_fd(sync_fd, &fd, err) < 0)
		return rune_error_wrap(err, "seccomp listener fd");
	if (strlen(path) >= sizeof(sa.sun_path))
		return rune_error(err, ENAMETOOLONG, "linux.seccomp.listenerPath %s", path);
	strcpy(sa.sun_path, path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return rune_error(err, errno, "linux.seccomp.listenerPath: connect to the seccomp agent at %s", path);
	cleanup_free char *msg = process_state(s, pid, state);
	/* The state as the message, the fd alongside (send_fd's payload is the name). */
	if (send_fd(sock, fd, msg, err) < 0)
		return rune_error_wrap(err, "send the seccomp fd to %s", path);
	return 0;
}
