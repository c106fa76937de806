/* The Task service, one function per RPC, each driving rune by exec. Exits
 * are reported here too: TaskExit once per process, its parked Waits answered
 * from the same record. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "containerd/types/mount.pb-c.h"
#include "containerd/v1/types/task.pb-c.h"
#include "events.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "json.h"
#include "log.h"
#include "options.pb-c.h"
#include "shim.pb-c.h"
#include "shim.h"
#include "util.h"

#define SHIM_VERSION "rune-shim " RUNE_VERSION

/* The state of one call: where to answer, what to answer with. */
struct rpc {
	struct shim_server *s;
	struct shim_conn *conn;
	uint32_t stream;
	struct shim_reply *r;
	char **msg;
	bool *parked;
};

void shim_reply_own(struct shim_reply *r, void *p)
{
	if (r->n == ARRAY_SIZE(r->allocs))
		abort(); /* a programming error: no answer has this many parts */
	r->allocs[r->n++] = p;
}

void *shim_reply_alloc(struct shim_reply *r, size_t size)
{
	void *p = xcalloc(1, size);
	shim_reply_own(r, p);
	return p;
}

void shim_reply_free(struct shim_reply *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->allocs[i]);
	r->n = 0;
	r->msg = NULL;
}

static int fail(struct rpc *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct rpc *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(*c->msg);
	*c->msg = xvasprintf(fmt, ap);
	va_end(ap);
	return code;
}

/* A rune failure: its message, as an Unknown error (containerd shows it as is). */
static int fail_err(struct rpc *c, rune_error_t *err)
{
	int code = (*err)->status == ENOENT ? SHIM_NOT_FOUND : SHIM_UNKNOWN;
	int ret = fail(c, code, "%s", (*err)->msg);
	rune_error_release(err);
	return ret;
}

static Google__Protobuf__Timestamp *timestamp(struct shim_reply *r, const struct timespec *ts)
{
	Google__Protobuf__Timestamp *t = shim_reply_alloc(r, sizeof(*t));
	google__protobuf__timestamp__init(t);
	t->seconds = ts->tv_sec;
	t->nanos = (int32_t) ts->tv_nsec;
	return t;
}

static struct shim_proc *find_proc(struct rpc *c, const char *id, const char *exec_id, int *code)
{
	struct shim_task *t = shim_find_task(c->s, id);

	*code = SHIM_NOT_FOUND;
	if (t == NULL) {
		fail(c, SHIM_NOT_FOUND, "task %.200s not found", id);
		return NULL;
	}
	if (exec_id == NULL || exec_id[0] == '\0')
		return &t->init;
	for (struct shim_proc *e = t->execs; e; e = e->next)
		if (strcmp(e->exec_id, exec_id) == 0)
			return e;
	fail(c, SHIM_NOT_FOUND, "process %.200s of task %.200s not found", exec_id, id);
	return NULL;
}

/* Ids name directories and files in rune's state: refused unless plain. */
static bool valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 1024 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (const char *p = id; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' || *p == '+' || (*p >= '0' && *p <= '9')
		      || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
	return true;
}

static void free_proc(struct shim_proc *p)
{
	shim_io_release(&p->io);
	shim_drop_waits(p);
	free(p->exec_id);
	free(p->spec);
	free(p->stdin_path);
	free(p->stdout_path);
	free(p->stderr_path);
}

void shim_wait_reply(const struct shim_proc *p, struct shim_reply *r)
{
	Containerd__Task__V2__WaitResponse *w = shim_reply_alloc(r, sizeof(*w));

	containerd__task__v2__wait_response__init(w);
	w->exit_status = p->exit_status;
	w->exited_at = timestamp(r, &p->exited_at);
	r->msg = &w->base;
}

void shim_proc_exited(struct shim_server *s, struct shim_proc *p, int wstatus)
{
	Containerd__Events__TaskExit ev = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	struct shim_reply r = { 0 };

	p->status = SHIM_STOPPED;
	p->exit_status = WIFEXITED(wstatus) ? (uint32_t) WEXITSTATUS(wstatus) : 128u + (uint32_t) WTERMSIG(wstatus);
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	log_debug("task %s %s: pid %d exited with %u", p->task->id, p->exec_id ? p->exec_id : "init", (int) p->pid,
	          p->exit_status);
	ev.container_id = p->task->id;
	ev.id = p->exec_id ? p->exec_id : p->task->id;
	ev.pid = (uint32_t) p->pid;
	ev.exit_status = p->exit_status;
	ev.exited_at = timestamp(&r, &p->exited_at);
	shim_publish(s, "/tasks/exit", &ev.base);
	shim_reply_free(&r);
	shim_answer_waits(s, p);
}

/* Create: mount the rootfs, `rune create`, take the pid and the terminal. */
static int rpc_create(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__CreateTaskRequest *req = (void *) m;
	struct shim_server *s = c->s;
	rune_error_t err = NULL;
	cleanup_free char *pid_file = shim_work_path(s, "pid"), *sock = NULL;
	cleanup_close int console_listen = -1;
	int console = -1;
	struct shim_task *t;

	if (!valid_id(req->id))
		return fail(c, SHIM_INVALID_ARGUMENT, "task id %.200s: not a valid container id", req->id);
	if (shim_find_task(s, req->id))
		return fail(c, SHIM_ALREADY_EXISTS, "task %s already exists", req->id);
	if (req->checkpoint[0])
		return fail(c, SHIM_UNIMPLEMENTED, "task %s: restoring a checkpoint is not supported by rune", req->id);
	if (req->bundle[0] != '/')
		return fail(c, SHIM_INVALID_ARGUMENT, "task %s: bundle %.200s is not an absolute path", req->id,
		            req->bundle);
	t = xcalloc(1, sizeof(*t));
	t->id = xstrdup(req->id);
	t->bundle = xstrdup(req->bundle);
	t->oom_watch = -1;
	t->init.task = t;
	t->init.status = SHIM_CREATED;
	t->init.terminal = req->terminal;
	t->init.stdin_path = xstrdup(req->stdin);
	t->init.stdout_path = xstrdup(req->stdout);
	t->init.stderr_path = xstrdup(req->stderr);
	t->init.io.child[0] = t->init.io.child[1] = t->init.io.child[2] = -1;
	t->init.io.copy_src[0] = t->init.io.copy_src[1] = t->init.io.copy_src[2] = -1;
	t->init.io.console = -1;
	shim_options_copy(&t->opts, &s->opts);
	if (req->options && req->options->type_url[0]) {
		size_t n = protobuf_c_message_get_packed_size(&req->options->base);
		cleanup_free uint8_t *buf = xmalloc(n + 1);
		protobuf_c_message_pack(&req->options->base, buf);
		if (shim_options_parse(buf, n, &t->opts, &err) < 0)
			goto fail_invalid;
	}
	if (shim_options_save(t->bundle, &t->opts, &err) < 0)
		goto fail_unknown;
	if (shim_mount_rootfs(t->bundle, req->rootfs, req->n_rootfs, &err) < 0)
		goto fail_unknown;
	t->rootfs_mounted = req->n_rootfs > 0;
	if (shim_io_open(s, &t->init.io, t->id, req->stdin, req->stdout, req->stderr, req->terminal, &err) < 0)
		goto fail_unknown;
	if (req->terminal) {
		sock = shim_work_path(s, "sock");
		if (shim_console_listen(sock, &console_listen, &err) < 0)
			goto fail_unknown;
	}
	{
		const char *args[16];
		size_t n = 0;
		args[n++] = "create";
		args[n++] = "--bundle";
		args[n++] = t->bundle;
		args[n++] = "--pid-file";
		args[n++] = pid_file;
		if (sock) {
			args[n++] = "--console-socket";
			args[n++] = sock;
		}
		if (t->opts.no_pivot)
			args[n++] = "--no-pivot";
		if (t->opts.no_new_keyring)
			args[n++] = "--no-new-keyring";
		args[n++] = t->id;
		args[n] = NULL;
		if (shim_rune(s, &t->opts, args, t->init.io.child, -1, &err) < 0)
			goto fail_unknown;
	}
	if (shim_read_pid(pid_file, &t->init.pid, &err) < 0
	    || (sock && shim_console_receive(console_listen, &console, &err) < 0)
	    || shim_io_started(&t->init.io, console, &err) < 0) {
		const char *del[] = { "delete", "--force", t->id, NULL };
		rune_error_t ignored = NULL;
		(void) shim_rune(s, &t->opts, del, (int[]){ -1, -1, -1 }, -1, &ignored);
		rune_error_release(&ignored);
		goto fail_unknown;
	}
	if (sock)
		unlink(sock);
	unlink(pid_file);
	t->next = s->tasks;
	s->tasks = t;
	shim_oom_watch(s, t);

	Containerd__Events__TaskIO tio = CONTAINERD__EVENTS__TASK_IO__INIT;
	Containerd__Events__TaskCreate ev = CONTAINERD__EVENTS__TASK_CREATE__INIT;
	tio.stdin = req->stdin;
	tio.stdout = req->stdout;
	tio.stderr = req->stderr;
	tio.terminal = req->terminal;
	ev.container_id = t->id;
	ev.bundle = t->bundle;
	ev.n_rootfs = req->n_rootfs;
	ev.rootfs = req->rootfs;
	ev.io = &tio;
	ev.pid = (uint32_t) t->init.pid;
	shim_publish(s, "/tasks/create", &ev.base);

	Containerd__Task__V2__CreateTaskResponse *resp = shim_reply_alloc(c->r, sizeof(*resp));
	containerd__task__v2__create_task_response__init(resp);
	resp->pid = (uint32_t) t->init.pid;
	c->r->msg = &resp->base;
	log_info("task %s created, pid %d", t->id, (int) t->init.pid);
	return SHIM_OK;

	int code;
fail_invalid:
	code = SHIM_INVALID_ARGUMENT;
	goto out;
fail_unknown:
	code = err->status == ENOENT ? SHIM_NOT_FOUND : SHIM_UNKNOWN;
out:
	if (sock)
		unlink(sock);
	unlink(pid_file);
	if (t->rootfs_mounted)
		shim_unmount_rootfs(t->bundle);
	fail(c, code, "create task %s: %s", t->id, err->msg);
	rune_error_release(&err);
	free_proc(&t->init);
	shim_options_free(&t->opts);
	free(t->id);
	free(t->bundle);
	free(t);
	return code;
}

static int start_exec(struct rpc *c, struct shim_proc *p)
{
	struct shim_server *s = c->s;
	cleanup_free char *pid_file = shim_work_path(s, "pid"), *sock = NULL;
	cleanup_close int spec_fd = -1, console_listen = -1;
	rune_error_t err = NULL;
	int console = -1;
	const char *args[12];
	size_t n = 0;

	if (shim_io_open(s, &p->io, p->task->id, p->stdin_path, p->stdout_path, p->stderr_path, p->terminal, &err) < 0)
		goto fail;
	spec_fd = shim_memfd("process.json", p->spec, strlen(p->spec), &err);
	if (spec_fd < 0)
		goto fail;
	if (p->terminal) {
		sock = shim_work_path(s, "sock");
		if (shim_console_listen(sock, &console_listen, &err) < 0)
			goto fail;
	}
	args[n++] = "exec";
	args[n++] = "--detach";
	args[n++] = "--process";
	args[n++] = "/proc/self/fd/3";
	args[n++] = "--pid-file";
	args[n++] = pid_file;
	if (sock) {
		args[n++] = "--console-socket";
		args[n++] = sock;
	}
	args[n++] = p->task->id;
	args[n] = NULL;
	if (shim_rune(s, &p->task->opts, args, p->io.child, spec_fd, &err) < 0
	    || shim_read_pid(pid_file, &p->pid, &err) < 0
	    || (sock && shim_console_receive(console_listen, &console, &err) < 0)
	    || shim_io_started(&p->io, console, &err) < 0)
		goto fail;
	if (sock)
		unlink(sock);
	unlink(pid_file);
	p->status = SHIM_RUNNING;

	Containerd__Events__TaskExecStarted ev = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
	ev.container_id = p->task->id;
	ev.exec_id = p->exec_id;
	ev.pid = (uint32_t) p->pid;
	shim_publish(s, "/tasks/exec-started", &ev.base);
	return SHIM_OK;
fail:
	if (sock)
		unlink(sock);
	unlink(pid_file);
	shim_io_release(&p->io);
	/* A process that never ran has exited, as far as its waiters are concerned. */
	p->status = SHIM_STOPPED;
	p->exit_status = 255;
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	shim_answer_waits(s, p);
	return fail_err(c, &err);
}

static int rpc_start(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__StartRequest *req = (void *) m;
	rune_error_t err = NULL;
	int code;
	struct shim_proc *p = find_proc(c, req->id, req->exec_id, &code);

	if (p == NULL)
		return code;
	if (p->status != SHIM_CREATED)
		return fail(c, SHIM_FAILED_PRECONDITION, "process %s of task %s has already been started",
		            p->exec_id ? p->exec_id : "init", req->id);
	if (p->exec_id) {
		if ((code = start_exec(c, p)) != SHIM_OK)
			return code;
	} else {
		const char *args[] = { "start", p->task->id, NULL };
		if (shim_rune(c->s, &p->task->opts, args, (int[]){ -1, -1, -1 }, -1, &err) < 0)
			return fail_err(c, &err);
		p->status = SHIM_RUNNING;
		Containerd__Events__TaskStart ev = CONTAINERD__EVENTS__TASK_START__INIT;
		ev.container_id = p->task->id;
		ev.pid = (uint32_t) p->pid;
		shim_publish(c->s, "/tasks/start", &ev.base);
	}
	Containerd__Task__V2__StartResponse *resp = shim_reply_alloc(c->r, sizeof(*resp));
	containerd__task__v2__start_response__init(resp);
	resp->pid = (uint32_t) p->pid;
	c->r->msg = &resp->base;
	return SHIM_OK;
}

static int rpc_state(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__StateRequest *req = (void *) m;
	int code;
	struct shim_proc *p = find_proc(c, req->id, req->exec_id, &code);

	if (p == NULL)
		return code;
	Containerd__Task__V2__StateResponse *resp = shim_reply_alloc(c->r, sizeof(*resp));
	containerd__task__v2__state_response__init(resp);
	resp->id = p->exec_id ? p->exec_id : p->task->id;
	resp->bundle = p->task->bundle;
	resp->pid = (uint32_t) p->pid;
	resp->status = (Containerd__V1__Types__Status) p->status;
	resp->stdin = p->stdin_path;
	resp->stdout = p->stdout_path;
	resp->stderr = p->stderr_path;
	resp->terminal = p->terminal;
	resp->exit_status = p->exit_status;
	if (p->status == SHIM_STOPPED)
		resp->exited_at = timestamp(c->r, &p->exited_at);
	resp->exec_id = p->exec_id ? p->exec_id : (char *) "";
	c->r->msg = &resp->base;
	return SHIM_OK;
}

static void delete_reply(struct rpc *c, const struct shim_proc *p)
{
	Containerd__Task__V2__DeleteResponse *resp = shim_reply_alloc(c->r, sizeof(*resp));
	containerd__task__v2__delete_response__init(resp);
	resp->pid = (uint32_t) p->pid;
	resp->exit_status = p->exit_status;
	resp->exited_at = timestamp(c->r, &p->exited_at);
	c->r->msg = &resp->base;
}

static void remove_task(struct shim_server *s, struct shim_task *t)
{
	for (struct shim_task **pp = &s->tasks; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	while (t->execs) {
		struct shim_proc *e = t->execs;
		t->execs = e->next;
		free_proc(e);
		free(e);
	}
	free_proc(&t->init);
	shim_options_free(&t->opts);
	free(t->cgroup);
	free(t->id);
	free(t->bundle);
	free(t);
}

static int rpc_delete(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__DeleteRequest *req = (void *) m;
	rune_error_t err = NULL;
	int code;
	struct shim_proc *p = find_proc(c, req->id, req->exec_id, &code);

	if (p == NULL)
		return code;
	struct shim_task *t = p->task;
	if (p->status != SHIM_STOPPED && p->status != SHIM_CREATED)
		return fail(c, SHIM_FAILED_PRECONDITION, "process %s of task %s is still running",
		            p->exec_id ? p->exec_id : "init", t->id);
	if (p->exec_id) {
		delete_reply(c, p); /* copies what it needs of p */
		for (struct shim_proc **pp = &t->execs; *pp; pp = &(*pp)->next)
			if (*pp == p) {
				*pp = p->next;
				break;
			}
		free_proc(p);
		free(p);
		return SHIM_OK;
	}
	const char *args[] = { "delete", "--force", t->id, NULL };
	if (shim_rune(c->s, &t->opts, args, (int[]){ -1, -1, -1 }, -1, &err) < 0)
		return fail_err(c, &err);
	if (p->status == SHIM_CREATED) { /* never started: killed by the delete */
		p->status = SHIM_STOPPED;
		p->exit_status = 128 + SIGKILL;
		clock_gettime(CLOCK_REALTIME, &p->exited_at);
		shim_answer_waits(c->s, p);
	}
	if (t->rootfs_mounted)
		shim_unmount_rootfs(t->bundle);
	delete_reply(c, p);

	Containerd__Events__TaskDelete ev = CONTAINERD__EVENTS__TASK_DELETE__INIT;
	ev.container_id = t->id;
	ev.pid = (uint32_t) p->pid;
	ev.exit_status = p->exit_status;
	ev.exited_at = ((Containerd__Task__V2__DeleteResponse *) c->r->msg)->exited_at;
	shim_publish(c->s, "/tasks/delete", &ev.base);
	log_info("task %s deleted", t->id);
	shim_oom_unwatch(c->s, t);
	remove_task(c->s, t);
	return SHIM_OK;
}

static int rpc_wait(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__WaitRequest *req = (void *) m;
	int code;
	struct shim_proc *p = find_proc(c, req->id, req->exec_id, &code);

	if (p == NULL)
		return code;
	if (p->status == SHIM_STOPPED) {
		shim_wait_reply(p, c->r);
		return SHIM_OK;
	}
	shim_park_wait(c->s, p, c->conn, c->stream);
	*c->parked = true;
	return SHIM_OK;
}

static int rpc_kill(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__KillRequest *req = (void *) m;
	rune_error_t err = NULL;
	int code;
	struct shim_proc *p = find_proc(c, req->id, req->exec_id, &code);

	if (p == NULL)
		return code;
	if (req->signal == 0 || req->signal >= 65)
		return fail(c, SHIM_INVALID_ARGUMENT, "kill: signal %u is not a signal", req->signal);
	if (p->exec_id) {
		if (p->status != SHIM_RUNNING)
			return fail(c, SHIM_NOT_FOUND, "process %s already finished", p->exec_id);
		if (kill(p->pid, (int) req->signal) < 0)
			return fail(c, SHIM_NOT_FOUND, "process %s: %s", p->exec_id, strerror(errno));
		return SHIM_OK;
	}
	if (p->status == SHIM_STOPPED && !req->all)
		return fail(c, SHIM_NOT_FOUND, "process already finished");
	char sig[16];
	snprintf(sig, sizeof(sig), "%u", req->signal);
	const char *args_all[] = { "kill", "--all", p->task->id, sig, NULL };
	const char *args_one[] = { "kill", p->task->id, sig, NULL };
	if (shim_rune(c->s, &p->task->opts, req->all ? args_all : args_one, (int[]){ -1, -1, -1 }, -1, &err) < 0) {
		shim_reap(c->s); /* "not running" because it has just exited: say so the usual way */
		if (p->status == SHIM_STOPPED && !req->all) {
			rune_error_release(&err);
			return fail(c, SHIM_NOT_FOUND, "process already finished");
		}
		return fail_err(c, &err);
	}
	return SHIM_OK;
}

static int rpc_exec(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__ExecProcessRequest *req = (void *) m;
	struct shim_task *t = shim_find_task(c->s, req->id);
	rune_error_t err = NULL;
	yajl_val spec = NULL;
	int code;

	if (t == NULL)
		return fail(c, SHIM_NOT_FOUND, "task %.200s not found", req->id);
	if (!valid_id(req->exec_id))
		return fail(c, SHIM_INVALID_ARGUMENT, "exec id %.200s: not a valid id", req->exec_id);
	for (struct shim_proc *e = t->execs; e; e = e->next)
		if (strcmp(e->exec_id, req->exec_id) == 0)
			return fail(c, SHIM_ALREADY_EXISTS, "process %s of task %s already exists", req->exec_id,
			            t->id);
	if (t->init.status == SHIM_STOPPED)
		return fail(c, SHIM_FAILED_PRECONDITION, "task %s has stopped: no exec", t->id);
	if (req->spec == NULL || req->spec->value.len == 0)
		return fail(c, SHIM_INVALID_ARGUMENT, "exec %s: no process spec", req->exec_id);
	cleanup_free char *json = xmalloc(req->spec->value.len + 1);
	memcpy(json, req->spec->value.data, req->spec->value.len);
	json[req->spec->value.len] = '\0';
	if (strlen(json) != req->spec->value.len || rune_json_parse(json, "exec spec", &spec, &err) < 0
	    || !YAJL_IS_OBJECT(spec)) {
		code = fail(c, SHIM_INVALID_ARGUMENT, "exec %s: spec (%.200s): %s", req->exec_id, req->spec->type_url,
		            err ? err->msg : "not a JSON object");
		rune_error_release(&err);
		yajl_tree_free(spec);
		return code;
	}
	yajl_tree_free(spec);

	struct shim_proc *p = xcalloc(1, sizeof(*p));
	p->task = t;
	p->exec_id = xstrdup(req->exec_id);
	p->spec = json;
	json = NULL;
	p->terminal = req->terminal;
	p->stdin_path = xstrdup(req->stdin);
	p->stdout_path = xstrdup(req->stdout);
	p->stderr_path = xstrdup(req->stderr);
	p->status = SHIM_CREATED;
	p->io.child[0] = p->io.child[1] = p->io.child[2] = -1;
	p->io.copy_src[0] = p->io.copy_src[1] = p->io.copy_src[2] = -1;
	p->io.console = -1;
	p->next = t->execs;
	t->execs = p;

	Containerd__Events__TaskExecAdded ev = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
	ev.container_id = t->id;
	ev.exec_id = p->exec_id;
	shim_publish(c->s, "/tasks/exec-added", &ev.base);
	return SHIM_OK;
}

/* `rune ps --format json`: the pids, exec processes named by their exec id. */
static int rpc_pids(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__PidsRequest *req = (void *) m;
	struct shim_task *t = shim_find_task(c->s, req->id);
	rune_error_t err = NULL;
	cleanup_free char *text = NULL;
	size_t len;
	yajl_val pids = NULL;

	if (t == NULL)
		return fail(c, SHIM_NOT_FOUND, "task %.200s not found", req->id);
	cleanup_close int out = shim_memfd("ps", "", 0, &err);
	const char *args[] = { "ps", "--format", "json", t->id, NULL };
	if (out < 0 || shim_rune(c->s, &t->opts, args, (int[]){ -1, out, -1 }, -1, &err) < 0
	    || lseek(out, 0, SEEK_SET) < 0 || rune_read_fd_all(out, "rune ps", 1 << 20, &text, &len, &err) < 0
	    || rune_json_parse(text, "rune ps output", &pids, &err) < 0)
		return fail_err(c, &err);
	if (!YAJL_IS_ARRAY(pids)) {
		yajl_tree_free(pids);
		return fail(c, SHIM_INTERNAL, "rune ps: not a JSON array");
	}
	size_t n = YAJL_GET_ARRAY(pids)->len;
	if (n > 4096)
		n = 4096; /* an answer containerd can take; the rest are left out */
	Containerd__Task__V2__PidsResponse *resp = shim_reply_alloc(c->r, sizeof(*resp));
	containerd__task__v2__pids_response__init(resp);
	Containerd__V1__Types__ProcessInfo *infos = shim_reply_alloc(c->r, (n + 1) * sizeof(*infos));
	Containerd__V1__Types__ProcessInfo **ptrs = shim_reply_alloc(c->r, (n + 1) * sizeof(*ptrs));
	for (size_t i = 0; i < n; i++) {
		yajl_val v = YAJL_GET_ARRAY(pids)->values[i];
		containerd__v1__types__process_info__init(&infos[i]);
		infos[i].pid = YAJL_IS_INTEGER(v) ? (uint32_t) YAJL_GET_INTEGER(v) : 0;
		ptrs[resp->n_processes++] = &infos[i];
		for (struct shim_proc *e = t->execs; e; e = e->next) {
			if (e->pid != (pid_t) infos[i].pid || e->status != SHIM_RUNNING)
				continue;
			/* containerd.runc.v1.ProcessDetails, as ctr and the CRI plugin read it. */
			Containerd__Runc__V1__ProcessDetails d = CONTAINERD__RUNC__V1__PROCESS_DETAILS__INIT;
			Google__Protobuf__Any *any = shim_reply_alloc(c->r, sizeof(*any));
			google__protobuf__any__init(any);
			d.exec_id = e->exec_id;
			any->type_url = (char *) "containerd.runc.v1.ProcessDetails";
			any->value.len = protobuf_c_message_get_packed_size(&d.base);
			any->value.data = shim_reply_alloc(c->r, any->value.len + 1);
			protobuf_c_message_pack(&d.base, any->value.data);
			infos[i].info = any;
			break;
		}
	}
	resp->processes = ptrs;
	c->r->msg = &resp->base;
	yajl_tree_free(pids);
	return SHIM_OK;
}

static int pause_resume(struct rpc *c, const char *id, bool pause)
{
	struct shim_task *t = shim_find_task(c->s, id);
	rune_error_t err = NULL;
	const char *args[] = { pause ? "pause" : "resume", id, NULL };

	if (t == NULL)
		return fail(c, SHIM_NOT_FOUND, "task %.200s not found", id);
	if (shim_rune(c->s, &t->opts, args, (int[]){ -1, -1, -1 }, -1, &err) < 0)
		return fail_err(c, &err);
	if (t->init.status != SHIM_STOPPED)
		t->init.status = pause ? SHIM_PAUSED : SHIM_RUNNING;
	if (pause) {
		Containerd__Events__TaskPaused ev = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
		ev.container_id = t->id;
		shim_publish(c->s, "/tasks/paused", &ev.base);
	} else {
		Containerd__Events__TaskResumed ev = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
		ev.container_id = t->id;
		shim_publish(c->s, "/tasks/resumed", &ev.base);
	}
	return SHIM_OK;
}

static int rpc_pause(struct rpc *c, ProtobufCMessage *m)
{
	return pause_resume(c, ((Containerd__Task__V2__PauseRequest *) m)->id, true);
}

static int rpc_resume(struct rpc *c, ProtobufCMessage *m)
{
	return pause_resume(c, ((Containerd__Task__V2__ResumeRequest *) m)->id, false);
}

static int rpc_resize_pty(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__ResizePtyRequest *req = (void *) m;
	int code;
	struct shim_proc *p = find_proc(c, req->id, req->exec_id, &code);

	if (p == NULL)
		return code;
	if (p->io.console < 0) /* no terminal: nothing to size, as runc's shim answers */
		return SHIM_OK;
	struct winsize ws = { .ws_row = (unsigned short) req->height, .ws_col = (unsigned short) req->width };
	if (ioctl(p->io.console, TIOCSWINSZ, &ws) < 0)
		return fail(c, SHIM_UNKNOWN, "resize the terminal: %s", strerror(errno));
	return SHIM_OK;
}

static int rpc_close_io(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__CloseIORequest *req = (void *) m;
	int code;
	struct shim_proc *p = find_proc(c, req->id, req->exec_id, &code);

	if (p == NULL)
		return code;
	if (req->stdin)
		shim_io_close_stdin(&p->io);
	return SHIM_OK;
}

static int rpc_update(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__UpdateTaskRequest *req = (void *) m;
	struct shim_task *t = shim_find_task(c->s, req->id);
	rune_error_t err = NULL;

	if (t == NULL)
		return fail(c, SHIM_NOT_FOUND, "task %.200s not found", req->id);
	if (req->resources == NULL || req->resources->value.len == 0)
		return fail(c, SHIM_INVALID_ARGUMENT, "update task %s: no resources", t->id);
	cleanup_close int fd =
	    shim_memfd("resources.json", req->resources->value.data, req->resources->value.len, &err);
	const char *args[] = { "update", "--resources", "/proc/self/fd/3", t->id, NULL };
	if (fd < 0 || shim_rune(c->s, &t->opts, args, (int[]){ -1, -1, -1 }, fd, &err) < 0)
		return fail_err(c, &err);
	return SHIM_OK;
}

static int rpc_stats(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__StatsRequest *req = (void *) m;
	struct shim_task *t = shim_find_task(c->s, req->id);
	rune_error_t err = NULL;
	char *type_url = NULL;
	uint8_t *value = NULL;
	size_t len = 0;

	if (t == NULL)
		return fail(c, SHIM_NOT_FOUND, "task %.200s not found", req->id);
	if (t->init.status == SHIM_STOPPED)
		return fail(c, SHIM_FAILED_PRECONDITION, "task %s has stopped: no stats", t->id);
	if (shim_stats(t->init.pid, &type_url, &value, &len, &err) < 0)
		return fail_err(c, &err);
	Containerd__Task__V2__StatsResponse *resp = shim_reply_alloc(c->r, sizeof(*resp));
	Google__Protobuf__Any *any = shim_reply_alloc(c->r, sizeof(*any));
	containerd__task__v2__stats_response__init(resp);
	google__protobuf__any__init(any);
	shim_reply_own(c->r, type_url);
	shim_reply_own(c->r, value);
	any->type_url = type_url;
	any->value.data = value;
	any->value.len = len;
	resp->stats = any;
	c->r->msg = &resp->base;
	return SHIM_OK;
}

static int rpc_connect(struct rpc *c, ProtobufCMessage *m)
{
	Containerd__Task__V2__ConnectRequest *req = (void *) m;
	struct shim_task *t = shim_find_task(c->s, req->id);
	Containerd__Task__V2__ConnectResponse *resp = shim_reply_alloc(c->r, sizeof(*resp));

	containerd__task__v2__connect_response__init(resp);
	resp->shim_pid = (uint32_t) getpid();
	resp->task_pid = t ? (uint32_t) t->init.pid : 0;
	resp->version = (char *) SHIM_VERSION;
	c->r->msg = &resp->base;
	return SHIM_OK;
}

/* One shim serves the pod: it leaves only when its last task is gone. */
static int rpc_shutdown(struct rpc *c, ProtobufCMessage *m)
{
	(void) m;
	if (c->s->tasks == NULL)
		c->s->exiting = true;
	return SHIM_OK;
}

static int rpc_checkpoint(struct rpc *c, ProtobufCMessage *m)
{
	(void) m;
	return fail(c, SHIM_UNIMPLEMENTED, "checkpoint is not supported by rune (no CRIU)");
}

static const struct {
	const char *method;
	const ProtobufCMessageDescriptor *request;
	int (*fn)(struct rpc *, ProtobufCMessage *);
} rpcs[] = {
	{ "Create", &containerd__task__v2__create_task_request__descriptor, rpc_create },
	{ "Start", &containerd__task__v2__start_request__descriptor, rpc_start },
	{ "State", &containerd__task__v2__state_request__descriptor, rpc_state },
	{ "Delete", &containerd__task__v2__delete_request__descriptor, rpc_delete },
	{ "Wait", &containerd__task__v2__wait_request__descriptor, rpc_wait },
	{ "Kill", &containerd__task__v2__kill_request__descriptor, rpc_kill },
	{ "Exec", &containerd__task__v2__exec_process_request__descriptor, rpc_exec },
	{ "Pids", &containerd__task__v2__pids_request__descriptor, rpc_pids },
	{ "Pause", &containerd__task__v2__pause_request__descriptor, rpc_pause },
	{ "Resume", &containerd__task__v2__resume_request__descriptor, rpc_resume },
	{ "ResizePty", &containerd__task__v2__resize_pty_request__descriptor, rpc_resize_pty },
	{ "CloseIO", &containerd__task__v2__close_iorequest__descriptor, rpc_close_io },
	{ "Update", &containerd__task__v2__update_task_request__descriptor, rpc_update },
	{ "Stats", &containerd__task__v2__stats_request__descriptor, rpc_stats },
	{ "Connect", &containerd__task__v2__connect_request__descriptor, rpc_connect },
	{ "Shutdown", &containerd__task__v2__shutdown_request__descriptor, rpc_shutdown },
	{ "Checkpoint", &containerd__task__v2__checkpoint_task_request__descriptor, rpc_checkpoint },
};

int shim_task_dispatch(struct shim_server *s, struct shim_conn *conn, uint32_t stream, const char *method,
                       const uint8_t *payload, size_t len, struct shim_reply *r, char **msg, bool *parked)
{
	struct rpc c = { .s = s, .conn = conn, .stream = stream, .r = r, .msg = msg, .parked = parked };

	for (size_t i = 0; i < ARRAY_SIZE(rpcs); i++) {
		if (strcmp(method, rpcs[i].method) != 0)
			continue;
		ProtobufCMessage *req = protobuf_c_message_unpack(rpcs[i].request, NULL, len, payload);
		if (req == NULL)
			return fail(&c, SHIM_INVALID_ARGUMENT, "%s: the request does not parse as %s", method,
			            rpcs[i].request->name);
		int code = rpcs[i].fn(&c, req);
		protobuf_c_message_free_unpacked(req, NULL);
		return code;
	}
	return fail(&c, SHIM_UNIMPLEMENTED, "method %.200s is not part of containerd.task.v2.Task", method);
}
