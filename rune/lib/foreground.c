/* A foreground `run` or `exec`: rune stays the parent, forwards the signals it
 * gets to the process, proxies its terminal, and returns its exit status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "util.h"

static int exit_code_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static bool copy_once(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
	return rune_write_all(to, buf, n) == 0;
}

static void resize(int master)
{
	struct winsize ws;
	if (master >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

int librune_wait_foreground(pid_t pid, int master, int *exit_code, rune_error_t *err)
{
	sigset_t all;
	struct termios saved;
	bool raw = false, in_open = master >= 0;
	int mfd = master; /* -1 once the pty reports EOF/EIO */
	int status = 0;
	bool done = false;

	sigfillset(&all);
	cleanup_close int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0)
		return rune_error(err, errno, "signalfd");
	if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(0, TCSANOW, &t) == 0;
		resize(master);
	}
	while (!done) {
		struct pollfd p[3] = { { .fd = sfd, .events = POLLIN },
			               { .fd = mfd, .events = POLLIN },
			               { .fd = in_open ? 0 : -1, .events = POLLIN } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			if (!copy_once(master, 1))
				mfd = -1;
		if (p[2].revents & (POLLIN | POLLHUP))
			in_open = copy_once(0, master) && mfd >= 0;
		if (!(p[0].revents & POLLIN))
			continue;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGCHLD) {
			pid_t w;
			int st;
			/* Reap everything: helpers and reparented orphans too. */
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				if (w == pid) {
					status = st;
					done = true;
				}
		} else if (si.ssi_signo == SIGWINCH) {
			resize(master);
		} else if (si.ssi_signo != SIGURG) {
			kill(pid, si.ssi_signo);
		}
	}
	if (master >= 0) {
		/* Drain what the process wrote before it exited. */
		fcntl(master, F_SETFL, O_NONBLOCK);
		while (copy_once(master, 1))
			;
		close(master);
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	*exit_code = exit_code_of(status);
	return 0;
}
