/* containerd-shim-rune-v2: the runtime v2 contract (docs/kubernetes.md).
 *
 *   containerd-shim-rune-v2 -namespace NS -address SOCK -publish-binary BIN -id ID [-debug] start
 *   containerd-shim-rune-v2 -namespace NS -address SOCK -id ID -bundle DIR delete
 *
 * `start` prints the ttrpc address of the pod's shim — starting the server if
 * the pod has none yet — and exits; the server keeps none of containerd's
 * pipes. `delete` cleans up after a task whose shim is gone. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "encoding.h"
#include "json.h"
#include "log.h"
#include "shim.h"
#include "shim.pb-c.h"
#include "util.h"

#define SOCKET_DIR "/run/containerd/s"

static void usage(FILE *f)
{
	fprintf(f, "usage: containerd-shim-rune-v2 -namespace NS -address ADDR -publish-binary BIN -id ID "
	           "[-bundle DIR] [-debug] start|delete\n"
	           "       containerd-shim-rune-v2 -v\n");
}

/* Go's flag syntax: -name value, --name value, -name=value; booleans alone. */
static int parse_args(int argc, char **argv, struct shim_cfg *cfg, const char **action)
{
	static const struct {
		const char *name;
		size_t offset;
	} flags[] = {
		{ "namespace", offsetof(struct shim_cfg, ns) },
		{ "address", offsetof(struct shim_cfg, address) },
		{ "publish-binary", offsetof(struct shim_cfg, publish_binary) },
		{ "id", offsetof(struct shim_cfg, id) },
		{ "bundle", offsetof(struct shim_cfg, bundle) },
	};
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *name = argv[i] + (argv[i][1] == '-' ? 2 : 1);
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t) (eq - name) : strlen(name);
		size_t k;

		if (strncmp(name, "debug", nlen) == 0 && nlen == 5) {
			cfg->debug = !eq || strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "1") == 0;
			continue;
		}
		if ((nlen == 1 && name[0] == 'v') || (nlen == 7 && strncmp(name, "version", 7) == 0)) {
			printf("containerd-shim-rune-v2:\n  Version:  %s\n  Revision: %s\n  Go version: none (C)\n",
			       RUNE_VERSION, RUNE_COMMIT);
			exit(0);
		}
		for (k = 0; k < ARRAY_SIZE(flags); k++)
			if (strlen(flags[k].name) == nlen && strncmp(name, flags[k].name, nlen) == 0)
				break;
		if (k == ARRAY_SIZE(flags)) {
			/* containerd versions add flags (-socket, -debug…): unknown valued ones are skipped. */
			if (!eq && i + 1 < argc && argv[i + 1][0] != '-')
				i++;
			continue;
		}
		char **slot = (char **) ((char *) cfg + flags[k].offset);
		if (eq)
			*slot = xstrdup(eq + 1);
		else if (i + 1 < argc)
			*slot = xstrdup(argv[++i]);
		else
			return -1;
	}
	*action = i < argc ? argv[i] : NULL;
	return 0;
}

/* The pod's key for the task whose config.json is in the working directory. */
static char *group_key(const struct shim_cfg *cfg)
{
	cleanup_free char *text = NULL;
	size_t len;
	rune_error_t err = NULL;

	if (rune_read_file("config.json", 16 << 20, &text, &len, &err) < 0) {
		rune_error_release(&err);
		return xstrdup(cfg->id);
	}
	return shim_group_key(text, cfg->id);
}

/* unix:///run/containerd/s/<sha256 of address/namespace/key>, as containerd's shims name it. */
static char *socket_path(const struct shim_cfg *cfg, const char *key)
{
	cleanup_free char *seed = xasprintf("%s/%s/%s", cfg->address, cfg->ns, key);
	uint8_t md[32];
	cleanup_free char *hex = NULL;

	shim_sha256(seed, strlen(seed), md);
	hex = rune_hex_encode(md, sizeof(md));
	return xasprintf(SOCKET_DIR "/%s", hex);
}

static bool socket_answers(const char *path)
{
	rune_error_t err = NULL;
	int fd;

	if (shim_unix_connect(path, &fd, &err) < 0) {
		rune_error_release(&err);
		return false;
	}
	close(fd);
	return true;
}

static int listen_on(const char *path, int *out, rune_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (rune_mkdir_p(SOCKET_DIR, 0711, err) < 0)
		return -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return rune_error(err, ENAMETOOLONG, "socket %s", path);
	strcpy(sa.sun_path, path);
	unlink(path); /* a shim that died left it; nobody answered on it */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return rune_error(err, errno, "socket");
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return rune_error(err, e, "listen on %s", path);
	}
	*out = fd;
	return 0;
}

/* The server, exec'd by `start` as `… serve` with the listening socket on
 * fd 3, the runtime options (a serialized Any, maybe empty) on fd 4, and on
 * fd 5 a pipe `start` writes to once containerd has the address: a new
 * session, containerd's pipes replaced by /dev/null, its log to the bundle's
 * log FIFO (non-blocking: a containerd that stopped reading must not stop the
 * shim). */
static int do_serve(struct shim_cfg *cfg)
{
	struct shim_options opts = { 0 };
	cleanup_free char *input = NULL;
	size_t len = 0;
	rune_error_t err = NULL;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log = open("log", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	int listen_fd = fcntl(3, F_DUPFD_CLOEXEC, 5);

	if (listen_fd < 0 || rune_read_fd_all(4, "runtime options", 1 << 20, &input, &len, &err) < 0
	    || shim_options_parse((const uint8_t *) input, len, &opts, &err) < 0) {
		fprintf(stderr, "containerd-shim-rune-v2 serve: %s\n", err ? err->msg : "no listening socket on fd 3");
		return 1;
	}
	/* `start` says on fd 5 that containerd has the address. If it died
	 * first, nobody will ever call: no server lingers for nothing. */
	char told = 0;
	ssize_t n;
	while ((n = read(5, &told, 1)) < 0 && errno == EINTR)
		;
	close(5);
	if (n != 1) {
		struct sockaddr_un sa;
		socklen_t sl = sizeof(sa);
		if (getsockname(listen_fd, (struct sockaddr *) &sa, &sl) == 0 && sa.sun_path[0])
			unlink(sa.sun_path);
		shim_options_free(&opts);
		return 0;
	}
	close(3);
	close(4);
	setsid();
	dup2(null, 0);
	dup2(null, 1);
	dup2(log >= 0 ? log : null, 2);
	if (log >= 0)
		close(log);
	close(null);
	if (chdir("/") < 0)
		return 1;
	int ret = shim_serve(cfg, &opts, listen_fd);
	shim_options_free(&opts);
	return ret;
}

static void exec_server(const struct shim_cfg *cfg, int listen_fd, int told_fd, const char *input, size_t len)
{
	rune_error_t err = NULL;
	int opts_fd = shim_memfd("runtime-options", input ? input : "", len, &err);
	const char *argv[] = { "containerd-shim-rune-v2",
		               "-namespace",
		               cfg->ns,
		               "-address",
		               cfg->address,
		               "-publish-binary",
		               cfg->publish_binary ? cfg->publish_binary : "",
		               "-id",
		               cfg->id,
		               cfg->debug ? "-debug" : "serve",
		               cfg->debug ? "serve" : NULL,
		               NULL };

	/* Out of the way first: any may already sit on 3, 4 or 5. */
	int l = fcntl(listen_fd, F_DUPFD_CLOEXEC, 10), o = opts_fd < 0 ? -1 : fcntl(opts_fd, F_DUPFD_CLOEXEC, 10);
	int t = fcntl(told_fd, F_DUPFD_CLOEXEC, 10);
	if (l < 0 || o < 0 || t < 0 || dup2(l, 3) < 0 || dup2(o, 4) < 0 || dup2(t, 5) < 0)
		_exit(1);
	execv("/proc/self/exe", (char *const *) argv);
	_exit(1);
}

static int do_start(struct shim_cfg *cfg, rune_error_t *err)
{
	struct shim_options opts = { 0 };
	cleanup_free char *input = NULL, *key = NULL, *path = NULL, *address = NULL;
	size_t len = 0;
	int listen_fd = -1, told[2] = { -1, -1 };
	pid_t pid;

	if (!isatty(0) && rune_read_fd_all(0, "runtime options (stdin)", 1 << 20, &input, &len, err) < 0)
		return -1;
	/* Checked here, so a bad type fails `start` with its name. */
	if (shim_options_parse((const uint8_t *) input, len, &opts, err) < 0)
		return -1;
	shim_options_free(&opts);
	key = group_key(cfg);
	path = socket_path(cfg, key);
	address = xasprintf("unix://%s", path);
	if (!socket_answers(path)) {
		if (listen_on(path, &listen_fd, err) < 0)
			return -1;
		if (pipe2(told, O_CLOEXEC) < 0) {
			close(listen_fd);
			return rune_error(err, errno, "pipe");
		}
		pid = fork();
		if (pid < 0)
			return rune_error(err, errno, "fork the shim server");
		if (pid == 0)
			exec_server(cfg, listen_fd, told[0], input, len);
		close(listen_fd);
		close(told[0]);
	}
	/* containerd 1.6 reads it back to reconnect after a restart. */
	if (rune_write_file_atomic("address", address, strlen(address), 0644, err) < 0)
		return -1;
	fputs(address, stdout);
	if (fflush(stdout) != 0)
		return rune_error(err, errno, "write the address");
	/* Now containerd will call: the server may serve (a closed pipe, were
	 * start killed before this, tells it to go). */
	if (told[1] >= 0 && (rune_write_all(told[1], "1", 1) < 0 || close(told[1]) < 0))
		return rune_error(err, errno, "tell the shim server");
	/* containerd takes start's exit status as the verdict: exit at once, so
	 * that no kill lands between telling the server and exiting (and a
	 * sanitizer's exit-time checks do not widen that window). */
	if (told[1] >= 0)
		_exit(0);
	return 0;
}

/* After the shim is gone (or for a task it never finished): kill and delete
 * the container, unmount its rootfs, answer a DeleteResponse. Idempotent. */
static int do_delete(struct shim_cfg *cfg, rune_error_t *err)
{
	struct shim_options opts = { 0 };
	struct shim_server s = { .cfg = cfg };
	Containerd__Task__V2__DeleteResponse resp = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	const char *args[] = { "delete", "--force", cfg->id, NULL };
	rune_error_t rerr = NULL;
	struct timespec now;
	cleanup_free uint8_t *buf = NULL;

	if (cfg->bundle == NULL)
		cfg->bundle = rune_absolute_path(".");
	shim_options_load(cfg->bundle, &opts);
	if (rune_mkdir_p("/run/containerd/rune-shim", 0700, err) < 0)
		return -1;
	s.workdir = xstrdup("/run/containerd/rune-shim/delete-XXXXXX");
	if (mkdtemp(s.workdir) == NULL)
		return rune_error(err, errno, "mkdtemp %s", s.workdir);
	if (shim_rune(&s, &opts, args, (int[]){ -1, -1, -1 }, -1, &rerr) < 0) {
		if (!strstr(rerr->msg, "does not exist") && !strstr(rerr->msg, "not exist"))
			fprintf(stderr, "warning: %s\n", rerr->msg);
		rune_error_release(&rerr);
	}
	rmdir(s.workdir);
	free(s.workdir);
	shim_unmount_rootfs(cfg->bundle);
	shim_options_free(&opts);
	clock_gettime(CLOCK_REALTIME, &now);
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t) now.tv_nsec;
	resp.exit_status = 128 + 9; /* SIGKILL, as containerd's runc shim reports it */
	resp.exited_at = &ts;
	size_t n = protobuf_c_message_get_packed_size(&resp.base);
	buf = xmalloc(n + 1);
	protobuf_c_message_pack(&resp.base, buf);
	if (rune_write_all(1, buf, n) < 0)
		return rune_error(err, errno, "write the DeleteResponse");
	return 0;
}

static void cfg_free(struct shim_cfg *cfg)
{
	free(cfg->ns);
	free(cfg->address);
	free(cfg->publish_binary);
	free(cfg->id);
	free(cfg->bundle);
	free(cfg->ttrpc_address);
}

static int run(struct shim_cfg *cfg, const char *action)
{
	rune_error_t err = NULL;
	int ret;

	if (strcmp(action, "serve") == 0)
		return do_serve(cfg);
	if (strcmp(action, "start") == 0)
		ret = do_start(cfg, &err);
	else if (strcmp(action, "delete") == 0)
		ret = do_delete(cfg, &err);
	else {
		fprintf(stderr, "containerd-shim-rune-v2: unknown action %s\n", action);
		usage(stderr);
		return 2;
	}
	if (ret < 0) {
		fprintf(stderr, "containerd-shim-rune-v2 %s: %s\n", action, err->msg);
		rune_error_release(&err);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct shim_cfg cfg = { 0 };
	const char *action = NULL;
	rune_error_t err = NULL;
	int ret;

	if (parse_args(argc, argv, &cfg, &action) < 0 || action == NULL) {
		usage(stderr);
		cfg_free(&cfg);
		return 2;
	}
	if (cfg.ns == NULL || cfg.id == NULL || cfg.address == NULL) {
		fprintf(stderr, "containerd-shim-rune-v2: -namespace, -address and -id are required\n");
		cfg_free(&cfg);
		return 2;
	}
	if (strchr(cfg.ns, '/') || strcmp(cfg.ns, "..") == 0) {
		fprintf(stderr, "containerd-shim-rune-v2: namespace %s: not a valid name\n", cfg.ns);
		cfg_free(&cfg);
		return 2;
	}
	cfg.ttrpc_address = getenv("TTRPC_ADDRESS") ? xstrdup(getenv("TTRPC_ADDRESS")) : NULL;
	rune_log_init(NULL, "text", cfg.debug, &err);
	ret = run(&cfg, action);
	cfg_free(&cfg);
	return ret;
}
