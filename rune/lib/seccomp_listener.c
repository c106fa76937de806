/* SCMP_ACT_NOTIFY: the filter's listener fd travels from the container
 * process to rune, and from rune to the seccomp agent at listenerPath. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "json.h"
#include "seccomp_filter.h"
#include "sync.h"
#include "unixsock.h"
#include "util.h"

int librune_seccomp_load_and_hand_over(const struct rune_seccomp *s, int sync_fd, rune_error_t *err)
{
	cleanup_close int fd = -1;
	if (librune_seccomp_install(s, &fd, err) < 0)
		return -1;
	if (fd >= 0 && librune_sync_report(sync_fd, SYNC_SECCOMP, 0, NULL, fd, err) < 0)
		return rune_error_wrap(err, "hand the seccomp listener to rune");
	return 0;
}

static char *process_state(const struct rune_seccomp *s, int pid, const char *state)
{
	yajl_gen g = rune_json_gen_new(false, NULL);
	yajl_val st = NULL;
	rune_error_t ignored = NULL;
	static const char *const fds[] = { "seccompFd", NULL };
	const unsigned char *buf;
	size_t len;
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "ociVersion", RUNE_OCI_VERSION);
	rune_json_gen_key(g, "fds");
	rune_json_gen_strv(g, fds);
	rune_json_gen_kv_int(g, "pid", pid);
	rune_json_gen_kv_str(g, "metadata",
	                     librune_seccomp_listener_metadata(s) ? librune_seccomp_listener_metadata(s) : "");
	if (rune_json_parse(state, "state", &st, &ignored) == 0) {
		rune_json_gen_key(g, "state");
		rune_json_gen_value(g, st);
		yajl_tree_free(st);
	}
	rune_error_release(&ignored);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	char *out = xasprintf("%.*s", (int) len, buf);
	yajl_gen_free(g);
	return out;
}

int librune_seccomp_forward_listener(const struct rune_seccomp *s, int listener_fd, int pid, const char *state,
                                     rune_error_t *err)
{
	cleanup_close int sock = -1;
	const char *path = librune_seccomp_listener_path(s);
	if (rune_connect_unix(path, &sock, "the seccomp agent at", err) < 0)
		return rune_error_wrap(err, "linux.seccomp.listenerPath: failed to connect with seccomp agent");
	cleanup_free char *msg = process_state(s, pid, state);
	/* The container process state is the message, the fd rides along. */
	if (rune_send_msg(sock, msg, strlen(msg), &listener_fd, 1, "the seccomp fd to the agent", err) < 0)
		return rune_error_wrap(err, "linux.seccomp.listenerPath %s", path);
	return 0;
}
