/* containerd-shim-rune-v2: containerd's runtime v2 shim for rune.
 *
 * One process serves every task of a pod (grouped on the CRI sandbox id, as
 * containerd's runc shim groups them) over ttrpc on a unix socket, and drives
 * rune by exec — `--log-format json`, a pid file, a console socket — never by
 * linking librune. It is the subreaper of the containers it starts and reports
 * each exit exactly once. One thread runs the event loop and owns every table
 * below; stdio copying runs on small detached threads that own only their fds.
 *
 * Files: main.c (start / delete / serve), server.c (event loop, connections,
 * reaper), ttrpc.c (framing), task.c (one function per Task RPC), process.c
 * (rune by exec), io.c (FIFOs, loggers, pty), events.c (publishing), stats.c
 * (cgroup metrics, OOM), options.c (runtime options, rootfs mounts), sha256.c
 * (the socket's name). */
#ifndef RUNE_SHIM_H
#define RUNE_SHIM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <errno.h>
#include <time.h>

#include <protobuf-c/protobuf-c.h>

#include "error.h"

/* The fuzzing build (make FUZZ=1) reaches every decoder and handler but
 * never the host: whatever touches it — rune, mounts, files, stdio, sockets —
 * refuses first. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define SHIM_NO_SIDE_EFFECTS_WHEN_FUZZING(err) return rune_error(err, EPERM, "fuzzing build: no side effects")
#else
#define SHIM_NO_SIDE_EFFECTS_WHEN_FUZZING(err) (void) 0
#endif

/* ttrpc's limit on one message, as containerd's ttrpc enforces it. */
#define SHIM_MAX_MESSAGE (4u << 20)

/* gRPC status codes the shim answers with (google.rpc.Code). */
enum shim_code {
	SHIM_OK = 0,
	SHIM_UNKNOWN = 2,
	SHIM_INVALID_ARGUMENT = 3,
	SHIM_NOT_FOUND = 5,
	SHIM_ALREADY_EXISTS = 6,
	SHIM_FAILED_PRECONDITION = 9,
	SHIM_RESOURCE_EXHAUSTED = 8,
	SHIM_UNIMPLEMENTED = 12,
	SHIM_INTERNAL = 13,
};

/* What containerd told the shim on its command line and in its environment. */
struct shim_cfg {
	char *ns;             /* -namespace */
	char *address;        /* -address: containerd's gRPC socket */
	char *publish_binary; /* -publish-binary */
	char *id;             /* -id */
	char *bundle;         /* -bundle (delete), else the working directory */
	char *ttrpc_address;  /* $TTRPC_ADDRESS: where events go */
	bool debug;
};

/* Runtime options (runtimeoptions.v1.Options or containerd.runc.v1.Options). */
struct shim_options {
	char *binary; /* rune to run; default: beside the shim, then $PATH */
	char *root;   /* rune --root; default /run/containerd/rune/<ns> */
	bool no_pivot;
	bool no_new_keyring;
	bool systemd_cgroup;
};

/* stdio of one process: the fds handed to rune, then the copy threads. */
struct shim_stdin;
struct shim_io {
	int child[3];       /* the process's stdin/stdout/stderr, closed once it has them */
	int copy_src[3];    /* our ends: [0] writes the child's stdin, [1] [2] read its output */
	char *copy_path[3]; /* the FIFOs containerd gave */
	int console;        /* pty master (terminal), for ResizePty; -1 otherwise */
	bool terminal;
	struct shim_stdin *in; /* shared with the stdin copy thread */
};

enum shim_status { SHIM_CREATED = 1, SHIM_RUNNING = 2, SHIM_STOPPED = 3, SHIM_PAUSED = 4 };

struct shim_wait; /* a Wait RPC parked until the process exits */

struct shim_proc {
	struct shim_task *task;
	char *exec_id; /* NULL for the task's init */
	char *spec;    /* exec: the Process JSON containerd sent */
	char *stdin_path, *stdout_path, *stderr_path;
	bool terminal;
	pid_t pid;
	enum shim_status status;
	uint32_t exit_status;
	struct timespec exited_at;
	struct shim_io io;
	struct shim_wait *waits;
	struct shim_proc *next;
};

struct shim_task {
	char *id;
	char *bundle;
	struct shim_options opts;
	bool rootfs_mounted;
	struct shim_proc init;
	struct shim_proc *execs;
	char *cgroup;  /* the init's cgroup directory under /sys/fs/cgroup (v2) */
	int oom_watch; /* inotify watch on memory.events, -1 without */
	uint64_t oom_kills;
	struct shim_watch *oom_event; /* cgroup v1: eventfd on memory.oom_control */
	struct shim_task *next;
};

struct shim_conn;

/* What an epoll event is about: every registered fd's data points at one. */
enum shim_watch_kind { SHIM_W_LISTEN, SHIM_W_SIGNAL, SHIM_W_INOTIFY, SHIM_W_CONN, SHIM_W_OOM };
struct shim_watch {
	enum shim_watch_kind kind;
	int fd;
	struct shim_task *task;
};

struct shim_server {
	struct shim_cfg *cfg;
	struct shim_options opts; /* from `start`'s stdin, the default for tasks */
	char *workdir;            /* private: pid files, console sockets, rune logs */
	int epfd, listen_fd, sig_fd, ino_fd;
	int events_fd; /* ttrpc client connection to containerd, -1 until used */
	uint32_t events_stream;
	unsigned seq; /* names files in workdir */
	struct shim_task *tasks;
	struct shim_conn *conns;
	bool exiting;
};

/* --- ttrpc.c --- */
enum { TTRPC_REQUEST = 1, TTRPC_RESPONSE = 2 };
/* Write one frame (blocking socket semantics, up to 5 s for a slow peer). */
int shim_ttrpc_send(int fd, uint32_t stream, uint8_t type, const void *payload, size_t len);
/* A ttrpc Response frame for stream: payload on success, else code and message. */
int shim_ttrpc_respond(int fd, uint32_t stream, int code, const char *message, const ProtobufCMessage *reply);
/* A unary call as a client (events): send the request, read its response. */
int shim_ttrpc_call(int fd, uint32_t stream, const char *service, const char *method, const ProtobufCMessage *msg,
                    rune_error_t *err);
/* Connect to a unix socket given as a path or a unix:// URL. */
int shim_unix_connect(const char *address, int *fd, rune_error_t *err);

/* --- server.c --- */
int shim_serve(struct shim_cfg *cfg, struct shim_options *opts, int listen_fd);
/* A client connection on fd (owned), its bytes as they arrive — every frame
 * completed is answered on fd — and its end. Feeding fails only on a broken
 * stream the connection cannot recover from. */
struct shim_conn *shim_conn_open(struct shim_server *s, int fd);
int shim_conn_feed(struct shim_server *s, struct shim_conn *c, const uint8_t *data, size_t len);
void shim_conn_close(struct shim_server *s, struct shim_conn *c);
struct shim_task *shim_find_task(struct shim_server *s, const char *id);
/* Record a parked Wait for proc on connection conn / stream. */
void shim_park_wait(struct shim_server *s, struct shim_proc *p, struct shim_conn *conn, uint32_t stream);
/* Reap every exited child and report the exits (also called after rune runs). */
void shim_reap(struct shim_server *s);

/* --- task.c --- */
/* An answer under construction: the message and everything allocated for it. */
struct shim_reply {
	ProtobufCMessage *msg; /* NULL answers google.protobuf.Empty */
	void *allocs[32];
	size_t n;
};
/* Zeroed memory that lives until shim_reply_free. */
void *shim_reply_alloc(struct shim_reply *r, size_t size);
void shim_reply_free(struct shim_reply *r);
/* Free p with the answer. */
void shim_reply_own(struct shim_reply *r, void *p);
/* Dispatch one Task RPC. Returns the status code; r holds the answer, *msg an
 * error message (owned by the caller), *parked is set when the call answers
 * later (Wait on a running process). */
int shim_task_dispatch(struct shim_server *s, struct shim_conn *conn, uint32_t stream, const char *method,
                       const uint8_t *payload, size_t len, struct shim_reply *r, char **msg, bool *parked);
/* A process exited: record it, answer its Waits, publish TaskExit. */
void shim_proc_exited(struct shim_server *s, struct shim_proc *p, int wstatus);
/* The WaitResponse of an exited process. */
void shim_wait_reply(const struct shim_proc *p, struct shim_reply *r);
void shim_answer_waits(struct shim_server *s, struct shim_proc *p);
void shim_drop_conn_waits(struct shim_server *s, struct shim_conn *conn);
/* Forget p's parked Waits unanswered (the process is being freed). */
void shim_drop_waits(struct shim_proc *p);

/* --- process.c --- */
/* Run `rune <global flags> args…` for task t and wait for it. stdio are the
 * fds rune gets as 0, 1, 2 (-1: /dev/null); pass_fd, when >= 0, becomes its
 * fd 3. A failure carries rune's own error message from its JSON log. */
int shim_rune(struct shim_server *s, const struct shim_options *o, const char *const *args, const int stdio[3],
              int pass_fd, rune_error_t *err);
/* A fresh path in the work directory ("<workdir>/<seq>.<suffix>"). */
char *shim_work_path(struct shim_server *s, const char *suffix);
/* Read a pid file rune wrote. */
int shim_read_pid(const char *path, pid_t *pid, rune_error_t *err);
/* An anonymous file holding data (memfd), for --process / --resources. */
int shim_memfd(const char *name, const void *data, size_t len, rune_error_t *err);
/* A listening console socket; accept the pty master rune sends over it. */
int shim_console_listen(const char *path, int *fd, rune_error_t *err);
int shim_console_receive(int listen_fd, int *master, rune_error_t *err);

/* --- io.c --- */
/* Prepare stdio for a process: FIFO paths or binary:// / file:// URIs. */
int shim_io_open(struct shim_server *s, struct shim_io *io, const char *task_id, const char *in, const char *out,
                 const char *errp, bool terminal, rune_error_t *err);
/* After rune has the child's fds: close our copies, start the copy threads. */
int shim_io_started(struct shim_io *io, int console, rune_error_t *err);
/* Close the process's stdin (CloseIO, or the FIFO's writer went away). */
void shim_io_close_stdin(struct shim_io *io);
void shim_io_release(struct shim_io *io);

/* --- events.c --- */
/* Publish an event (e.g. "/tasks/exit", containerd.events.TaskExit). Failures are logged. */
void shim_publish(struct shim_server *s, const char *topic, const ProtobufCMessage *event);

/* --- stats.c --- */
/* The cgroup metrics of pid as an Any (io.containerd.cgroups.v1/v2.Metrics). */
int shim_stats(pid_t pid, char **type_url, uint8_t **value, size_t *len, rune_error_t *err);
/* Watch task's memory.events for OOM kills (cgroup v2). */
void shim_oom_watch(struct shim_server *s, struct shim_task *t);
/* An inotify event arrived: publish TaskOOM for tasks whose oom_kill grew. */
void shim_oom_check(struct shim_server *s);
/* cgroup v1's OOM eventfd fired for w's task. */
void shim_oom_event(struct shim_server *s, struct shim_watch *w);
/* Stop watching t (its task is deleted). */
void shim_oom_unwatch(struct shim_server *s, struct shim_task *t);

/* --- sha256.c --- */
void shim_sha256(const void *data, size_t len, uint8_t md[32]);

/* --- options.c --- */
/* Decode a google.protobuf.Any of runtime options into o (fields not given keep their value). */
int shim_options_parse(const uint8_t *data, size_t len, struct shim_options *o, rune_error_t *err);
void shim_options_copy(struct shim_options *dst, const struct shim_options *src);
void shim_options_free(struct shim_options *o);
/* Save / load the options beside the bundle, for the `delete` action. */
int shim_options_save(const char *bundle, const struct shim_options *o, rune_error_t *err);
void shim_options_load(const char *bundle, struct shim_options *o);
/* Mount containerd's rootfs mounts on <bundle>/rootfs; undo it. */
struct Containerd__Types__Mount;
int shim_mount_rootfs(const char *bundle, struct Containerd__Types__Mount **mounts, size_t n, rune_error_t *err);
void shim_unmount_rootfs(const char *bundle);
/* The pod a task belongs to, as containerd's runc shim groups: the
 * annotation io.containerd.runc.v2.group, else io.kubernetes.cri.sandbox-id,
 * else the task's id (config_json is the bundle's config.json). */
char *shim_group_key(const char *config_json, const char *id);
/* rune --root for the namespace (options.root or /run/containerd/rune/<ns>). */
char *shim_rune_root(const struct shim_cfg *cfg, const struct shim_options *o);

#endif
