#include "hooks.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "pidfd.h"
#include "util.h"

static int run_one(const struct rune_hook *h, const char *kind, size_t idx, const char *state_json, rune_error_t *err)
{
	int in[2];
	pid_t pid;
	int status;
	static char *const empty_env[] = { NULL };

	if (pipe2(in, O_CLOEXEC) < 0)
		return rune_error(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return rune_error(err, errno, "fork hook");
	}
	if (pid == 0) {
		char *const *argv = h->args && h->args[0] ? h->args : (char *const[]){ h->path, NULL };
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		dup2(in[0], 0);
		execve(h->path, argv, h->env ? h->env : empty_env);
		_exit(127);
	}
	close(in[0]);
	/* A hook need not read its stdin: ignore EPIPE while writing it. */
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	(void) rune_write_all(in[1], state_json, strlen(state_json));
	close(in[1]);
	signal(SIGPIPE, old);

	cleanup_close int pfd = rune_pidfd_open(pid);
	if (pfd >= 0 && h->timeout > 0) {
		if (!rune_pidfd_wait(pfd, h->timeout * 1000)) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return rune_error(err, ETIMEDOUT,
			                  "error running hook #%zu (%s, %s): did not finish within %d s", idx, kind,
			                  h->path, h->timeout);
		}
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return rune_error(err, errno, "wait for %s hook %s", kind, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(h->path, X_OK) < 0)
		return rune_error(err, errno, "error running hook #%zu (%s): cannot execute %s", idx, kind, h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return rune_error(err, 0, "error running hook #%zu (%s, %s): exit status %d", idx, kind, h->path,
		                  WEXITSTATUS(status));
	if (WIFSIGNALED(status)) {
		/* Lower-case, as runc (Go) names signals: "bad system call". */
		char what[64];
		snprintf(what, sizeof(what), "%s", strsignal(WTERMSIG(status)));
		what[0] = (char) tolower((unsigned char) what[0]);
		return rune_error(err, 0, "error running hook #%zu (%s, %s): killed by signal %d (%s)", idx, kind,
		                  h->path, WTERMSIG(status), what);
	}
	return 0;
}

int librune_hooks_run(const struct rune_hook_list *hooks, enum rune_hook_kind kind, const char *state_json,
                      rune_error_t *err)
{
	for (size_t i = 0; i < hooks[kind].n; i++)
		if (run_one(&hooks[kind].v[i], librune_hook_kind_name(kind), i, state_json, err) < 0)
			return -1;
	return 0;
}
