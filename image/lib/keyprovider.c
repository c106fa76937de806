/* ocicrypt key providers, as OCICRYPT_KEYPROVIDER_CONFIG names them. A "cmd"
 * provider reads one JSON request on stdin and writes one answer on stdout;
 * it gets KEYPROVIDER_TIMEOUT seconds and at most ANSWER_MAX bytes, and what
 * it says on stderr goes into the error when it fails. */
#include "keyprovider.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "encoding.h"
#include "json.h"
#include "util.h"

#define CONFIG_MAX          (1 << 20)
#define ANSWER_MAX          (1 << 20)
#define STDERR_MAX          2048
#define KEYPROVIDER_TIMEOUT 10

extern char **environ;

struct provider {
	char *name;
	char **argv; /* cmd: path, args...; NULL for a grpc provider */
	char *grpc;
};

struct keyprovider_conf {
	char *file;
	struct provider *v;
	size_t n;
};

void image_keyprovider_free(struct keyprovider_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].name);
		cleanup_strvp(&c->v[i].argv);
		free(c->v[i].grpc);
	}
	free(c->v);
	free(c->file);
	free(c);
}

static int parse_provider(yajl_val v, const char *where, struct provider *p, rune_error_t *err)
{
	yajl_val cmd = rune_json_get(v, "cmd"), grpc = rune_json_get(v, "grpc");
	if (!YAJL_IS_OBJECT(v) || (!cmd && !grpc))
		return rune_error(err, 0, "%s: want {\"cmd\": {...}} or {\"grpc\": \"host:port\"}", where);
	if (grpc && rune_json_read_string(grpc, where, &p->grpc, err) < 0)
		return -1;
	if (!cmd)
		return 0;
	char *path = NULL;
	cleanup_free char *wp = xasprintf("%s.cmd.path", where);
	cleanup_free char *wa = xasprintf("%s.cmd.args", where);
	cleanup_strv char **args = NULL;
	if (rune_json_read_string(rune_json_get(cmd, "path"), wp, &path, err) < 0
	    || rune_json_read_strv(rune_json_get(cmd, "args"), wa, &args, NULL, err) < 0) {
		free(path);
		return -1;
	}
	if (path == NULL || path[0] != '/') {
		free(path);
		return rune_error(err, 0, "%s: want an absolute path", wp);
	}
	rune_strv_append(&p->argv, path);
	for (char **a = args; a && *a; a++)
		rune_strv_append(&p->argv, *a);
	free(path);
	return 0;
}

int image_keyprovider_load(struct keyprovider_conf **out, rune_error_t *err)
{
	*out = NULL;
	const char *file = getenv("OCICRYPT_KEYPROVIDER_CONFIG");
	if (file == NULL || *file == '\0')
		return 0;
	yajl_val tree = NULL;
	if (rune_json_parse_file(file, CONFIG_MAX, &tree, err) < 0)
		return rune_error_wrap(err, "OCICRYPT_KEYPROVIDER_CONFIG");
	struct keyprovider_conf *c = xcalloc(1, sizeof(*c));
	c->file = xstrdup(file);
	yajl_val list = rune_json_get(tree, "key-providers");
	int rc = 0;
	if (!YAJL_IS_OBJECT(list))
		rc = rune_error(err, 0, "%s: no \"key-providers\" object", file);
	for (size_t i = 0; rc == 0 && i < list->u.object.len; i++) {
		c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
		struct provider *p = &c->v[c->n++];
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(list->u.object.keys[i]);
		cleanup_free char *where = xasprintf("%s: key-providers[\"%s\"]", file, p->name);
		rc = parse_provider(list->u.object.values[i], where, p, err);
	}
	yajl_tree_free(tree);
	if (rc < 0) {
		image_keyprovider_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

/* The request, as ocicrypt writes it (Parameters: name -> [base64 params]). */
static char *unwrap_request(const char *name, const char *params, const unsigned char *annotation, size_t len)
{
	yajl_gen g = rune_json_gen_new(false, NULL);
	cleanup_free char *ann = rune_base64_encode(annotation, len);
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "op", "keyunwrap");
	rune_json_gen_key(g, "keyunwrapparams");
	yajl_gen_map_open(g);
	rune_json_gen_key(g, "dc");
	yajl_gen_map_open(g);
	rune_json_gen_key(g, "Parameters");
	yajl_gen_map_open(g);
	if (params) {
		cleanup_free char *p = rune_base64_encode(params, strlen(params));
		rune_json_gen_key(g, name);
		yajl_gen_array_open(g);
		rune_json_gen_str(g, p);
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	rune_json_gen_kv_str(g, "annotation", ann);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	const unsigned char *buf;
	size_t n;
	yajl_gen_get_buf(g, &buf, &n);
	char *s = strndup((const char *) buf, n);
	yajl_gen_free(g);
	return s;
}

struct child_io {
	int in, out, errfd;
	pid_t pid;
};

static int spawn(char *const *argv, struct child_io *io, rune_error_t *err)
{
	int pin[2], pout[2], perr[2];
	if (pipe2(pin, O_CLOEXEC) < 0)
		return rune_error(err, errno, "pipe");
	if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
		int e = errno;
		close(pin[0]);
		close(pin[1]);
		return rune_error(err, e, "pipe");
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	int rc = posix_spawn(&io->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	io->in = pin[1];
	io->out = pout[0];
	io->errfd = perr[0];
	if (rc != 0) {
		close(io->in);
		close(io->out);
		close(io->errfd);
		return rune_error(err, rc, "run %s", argv[0]);
	}
	fcntl(io->in, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Feed the request, collect stdout and stderr, until both close or time is up. */
static int exchange(struct child_io *io, const char *req, char **out, size_t *out_len, char *errbuf, rune_error_t *err)
{
	size_t sent = 0, len = strlen(req), elen = 0;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	*out = NULL;
	*out_len = 0;
	while (io->out >= 0 || io->errfd >= 0) {
		struct pollfd p[3] = { { io->out, POLLIN, 0 }, { io->errfd, POLLIN, 0 }, { io->in, POLLOUT, 0 } };
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = KEYPROVIDER_TIMEOUT * 1000L
		            - ((now.tv_sec - start.tv_sec) * 1000L + (now.tv_nsec - start.tv_nsec) / 1000000L);
		if (left <= 0)
			return rune_error(err, 0, "no answer within %d s", KEYPROVIDER_TIMEOUT);
		if (poll(p, 3, (int) left) < 0 && errno != EINTR)
			return rune_error(err, errno, "poll");
		if (p[2].revents & (POLLOUT | POLLERR | POLLHUP)) {
			ssize_t n = write(io->in, req + sent, len - sent);
			if (n > 0)
				sent += n;
			if (n < 0 || sent == len) {
				close(io->in);
				io->in = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			*out = xrealloc(*out, *out_len + 65536 + 1);
			ssize_t n = read(io->out, *out + *out_len, 65536);
			if (n <= 0) {
				close(io->out);
				io->out = -1;
			} else if ((*out_len += n) > ANSWER_MAX) {
				return rune_error(err, 0, "an answer larger than %d bytes", ANSWER_MAX);
			}
			(*out)[*out_len] = '\0';
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			char tmp[512];
			ssize_t n = read(io->errfd, tmp, sizeof(tmp));
			if (n <= 0) {
				close(io->errfd);
				io->errfd = -1;
			} else {
				size_t k = (size_t) n < STDERR_MAX - 1 - elen ? (size_t) n : STDERR_MAX - 1 - elen;
				memcpy(errbuf + elen, tmp, k);
				elen += k;
				errbuf[elen] = '\0';
			}
		}
	}
	return 0;
}

static int run_cmd(const struct provider *p, const char *req, char **answer, size_t *len, rune_error_t *err)
{
	struct child_io io = { -1, -1, -1, -1 };
	char errbuf[STDERR_MAX] = "";
	if (spawn(p->argv, &io, err) < 0)
		return -1;
	int rc = exchange(&io, req, answer, len, errbuf, err);
	int status = 0;
	if (rc < 0)
		kill(io.pid, SIGKILL);
	while (waitpid(io.pid, &status, 0) < 0 && errno == EINTR)
		;
	if (io.in >= 0)
		close(io.in);
	if (io.out >= 0)
		close(io.out);
	if (io.errfd >= 0)
		close(io.errfd);
	errbuf[strcspn(errbuf, "\n")] = '\0';
	if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		rc = WIFSIGNALED(status) ? rune_error(err, 0, "killed by signal %d", WTERMSIG(status))
		                         : rune_error(err, 0, "exit status %d", WEXITSTATUS(status));
	if (rc < 0 && errbuf[0]) {
		char *with = xasprintf("%s (it said: %s)", (*err)->msg, errbuf);
		free((*err)->msg);
		(*err)->msg = with;
	}
	if (rc < 0) {
		free(*answer);
		*answer = NULL;
	}
	return rc;
}

int image_keyprovider_unwrap(const struct keyprovider_conf *c, const char *name, const char *params,
                             const unsigned char *annotation, size_t len, char **optsdata, size_t *optslen,
                             rune_error_t *err)
{
	const struct provider *p = NULL;
	for (size_t i = 0; c && i < c->n && !p; i++)
		if (strcmp(c->v[i].name, name) == 0)
			p = &c->v[i];
	if (p == NULL)
		return 0;
	if (p->argv == NULL)
		return rune_error(err, 0,
		                  "key provider %s (%s): a grpc provider (%s); rune-image speaks the cmd protocol only",
		                  name, c->file, p->grpc);
	cleanup_free char *req = unwrap_request(name, params, annotation, len);
	cleanup_free char *answer = NULL;
	size_t n = 0;
	if (run_cmd(p, req, &answer, &n, err) < 0)
		return rune_error_wrap(err, "key provider %s (%s)", name, p->argv[0]);
	yajl_val tree = NULL;
	const char *path[] = { "keyunwrapresults", "optsdata", NULL };
	yajl_val v = NULL;
	if (memchr(answer ? answer : "", '\0', n) == NULL
	    && rune_json_parse(answer ? answer : "", "answer", &tree, err) == 0)
		v = yajl_tree_get(tree, path, yajl_t_string);
	rune_error_release(err);
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	int rc = v && rune_base64_decode(v->u.string, strlen(v->u.string), &raw, &raw_len) ? 1 : -1;
	if (tree)
		yajl_tree_free(tree);
	if (rc < 0)
		return rune_error(
		    err, 0, "key provider %s (%s): the answer is not {\"keyunwrapresults\": {\"optsdata\": base64}}",
		    name, p->argv[0]);
	*optsdata = (char *) raw;
	*optslen = raw_len;
	return 1;
}
