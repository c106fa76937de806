#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "dmz.h"
#include "fs.h"
#include "seccomp_filter.h"
#include "sync.h"
#include "util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static bool is_executable_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int librune_process_find_executable(const struct rune_process *p, char **path, rune_error_t *err)
{
	const char *name = p->args[0];
	if (name[0] == '\0')
		return rune_error(err, ENOENT, "process.args[0] is empty");
	if (strchr(name, '/')) {
		struct stat st;
		if (stat(name, &st) < 0)
			return rune_error(err, errno, "exec: \"%s\"", name);
		if (!S_ISREG(st.st_mode) || access(name, X_OK) < 0)
			return rune_error(err, EACCES, "exec: \"%s\"", name);
		*path = xstrdup(name);
		return 0;
	}
	const char *env_path = rune_env_lookup(p->env, "PATH");
	cleanup_free char *dirs = xstrdup(env_path ? env_path : DEFAULT_PATH);
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		cleanup_free char *cand = xasprintf("%s/%s", *d ? d : ".", name);
		if (is_executable_file(cand)) {
			*path = take_ptr(cand);
			return 0;
		}
	}
	return rune_error(err, 0, "exec: \"%s\": executable file not found in $PATH", name);
}

static int apply_caps_bounding(const struct rune_caps *caps, rune_error_t *err)
{
	/* Asked only about the capabilities the process wants (not read from a
	 * procfs the container may have mounted over). */
	uint64_t wanted = caps->bounding | caps->permitted | caps->effective | caps->inheritable | caps->ambient;
	for (int c = 0; c <= 63; c++) {
		if (!(wanted & (1ULL << c)) || prctl(PR_CAPBSET_READ, c, 0, 0, 0) > 0)
			continue;
		char *name = cap_to_name(c); /* libcap memory: cap_free */
		for (char *q = name; q && *q; q++)
			*q = (*q >= 'a' && *q <= 'z') ? *q - 32 : *q;
		rune_error(err, EPERM,
		           "process.capabilities: %s is not in the bounding set of this host, so it cannot be granted",
		           name ? name : "?");
		cap_free(name);
		return -1;
	}
	/* One call per capability left out (there is no call for several),
	 * up to the kernel's last: EINVAL past it. */
	for (int c = 0; c <= 63; c++) {
		if (caps->bounding & (1ULL << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			return rune_error(err, errno, "drop capability %d from the bounding set", c);
		}
	}
	return 0;
}

static int apply_caps_sets(const struct rune_caps *caps, rune_error_t *err)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2] = { { 0 } };
	for (size_t i = 0; i < ARRAY_SIZE(data); i++) {
		data[i].effective = (uint32_t) (caps->effective >> (32 * i));
		data[i].permitted = (uint32_t) (caps->permitted >> (32 * i));
		data[i].inheritable = (uint32_t) (caps->inheritable >> (32 * i));
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return rune_error(err, errno, "set capabilities (effective/permitted/inheritable)");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return rune_error(err, errno, "clear ambient capabilities");
	for (int c = 0; c <= 63; c++) {
		if (!(caps->ambient & (1ULL << c)))
			continue;
		/* As runc: an ambient cap the other sets don't allow is skipped, not fatal. */
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0 && errno != EPERM)
			return rune_error(err, errno, "raise ambient capability %d", c);
	}
	return 0;
}

static int apply_rlimits(const struct rune_process *p, rune_error_t *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct rune_rlimit *r = &p->rlimits[i];
		struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
		if (setrlimit(r->resource, &rl) < 0) {
			struct rlimit cur;
			getrlimit(r->resource, &cur);
			if (errno == EPERM && r->hard > cur.rlim_max)
				return rune_error(err, EPERM,
				                  "process.rlimits: %s hard limit %llu exceeds this host's %llu and "
				                  "raising it needs CAP_SYS_RESOURCE",
				                  r->name, (unsigned long long) r->hard,
				                  (unsigned long long) cur.rlim_max);
			return rune_error(err, errno, "process.rlimits: set %s to soft %llu, hard %llu", r->name,
			                  (unsigned long long) r->soft, (unsigned long long) r->hard);
		}
	}
	return 0;
}

static int apply_user(const struct rune_process *p, rune_error_t *err)
{
	/* setgroups is denied in a user namespace whose setgroups file says so; skip it
	 * only when nothing was asked for. */
	if (setgroups(p->n_additional_gids, p->additional_gids) < 0 && (p->n_additional_gids || errno != EPERM))
		return rune_error(err, errno, "process.user.additionalGids: setgroups");
	if (setresgid(p->gid, p->gid, p->gid) < 0)
		return rune_error(err, errno, "process.user.gid: setgid %u", (unsigned) p->gid);
	if (setresuid(p->uid, p->uid, p->uid) < 0)
		return rune_error(err, errno, "process.user.uid: setuid %u", (unsigned) p->uid);
	return 0;
}

/* process.scheduler and process.ioPriority, while still privileged. */
static int apply_sched_io(const struct rune_process *p, rune_error_t *err)
{
	if (p->has_io_priority
	    && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (p->io_class << 13) | p->io_priority) < 0)
		return rune_error(err, errno, "process.ioPriority: ioprio_set");
	if (p->has_scheduler) {
		struct {
			uint32_t size, policy;
			uint64_t flags;
			int32_t nice;
			uint32_t priority;
			uint64_t runtime, deadline, period;
		} attr = { sizeof(attr),          p->scheduler.policy,  p->scheduler.flags,    p->scheduler.nice,
			   p->scheduler.priority, p->scheduler.runtime, p->scheduler.deadline, p->scheduler.period };
		if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
			return rune_error(err, errno, "process.scheduler: sched_setattr");
	}
	return 0;
}

int librune_process_enter_cwd(const struct rune_process *p, bool may_defer, bool *entered, rune_error_t *err)
{
	/* CVE-2024-21626: a cwd like /proc/self/fd/N could name a host directory
	 * through an fd still open here. process.cwd is resolved inside the root
	 * this process now has, never through a magic link, and entered with
	 * fchdir on exactly what was resolved: nothing is left to verify, so no
	 * syscall the container's own seccomp filter may deny (getcwd) is needed. */
	cleanup_close int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return rune_error(err, errno, "process.cwd: open /");
	cleanup_close int fd = rune_open_in_root(root, p->cwd, O_PATH | O_DIRECTORY, false);
	if (fd >= 0 && fchdir(fd) == 0) {
		*entered = true;
		return 0;
	}
	/* As root first, so a directory only root may enter works; a root the
	 * file system refuses (root-squashed mounts) tries again as the user. */
	*entered = false;
	if ((errno == EACCES || errno == EPERM) && may_defer)
		return 0;
	if (errno == ELOOP || errno == EXDEV)
		return rune_error(err, EPERM, "process.cwd: \"%s\" is outside the container's root", p->cwd);
	return rune_error(err, errno, "process.cwd: chdir to \"%s\"", p->cwd);
}

int librune_process_apply(const struct rune_process *p, bool cwd_entered, rune_error_t *err)
{
	if (apply_sched_io(p, err) < 0 || apply_rlimits(p, err) < 0)
		return -1;
	if (p->has_oom_score_adj) {
		char buf[16];
		cleanup_close int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
		if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
			return rune_error(err, errno, "process.oomScoreAdj: set to %d", p->oom_score_adj);
	}
	if (p->caps.present && apply_caps_bounding(&p->caps, err) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return rune_error(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (apply_user(p, err) < 0)
		return -1;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return rune_error(err, errno, "prctl(PR_SET_KEEPCAPS)");
	if (p->caps.present && apply_caps_sets(&p->caps, err) < 0)
		return -1;
	/* Root was refused the cwd: the second and last try, as the user. */
	bool entered;
	if (!cwd_entered && librune_process_enter_cwd(p, false, &entered, err) < 0)
		return -1;
	umask(p->has_umask ? p->umask : 0022);
	return 0;
}

int librune_process_apply_nnp(const struct rune_process *p, rune_error_t *err)
{
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return rune_error(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
	return 0;
}

int librune_process_drop_privileges(const struct rune_process *p, const struct rune_seccomp *sc, int sync_fd,
                                    bool cwd_entered, int preserve_fds, int keep_fd, rune_error_t *err)
{
	/* runc's order: without no_new_privs loading a filter needs CAP_SYS_ADMIN,
	 * so it goes in before the capabilities are dropped; with it, as late as
	 * possible, so the fewest syscalls run under it. */
	bool filter_first = sc && !p->no_new_privileges;
	/* Nothing of ours may reach the program (CVE-2024-21626), even when the
	 * filter denies close_range or fcntl: settle it before any filter. */
	librune_process_prepare_fds(preserve_fds, keep_fd);
	if (filter_first && librune_seccomp_load_and_hand_over(sc, sync_fd, err) < 0)
		return -1;
	if (librune_process_apply(p, cwd_entered, err) < 0 || librune_process_apply_nnp(p, err) < 0)
		return -1;
	if (sc && !filter_first && librune_seccomp_load_and_hand_over(sc, sync_fd, err) < 0)
		return -1;
	return 0;
}

int librune_process_new_session(int console_fd, const struct rune_process *p, bool bind_console, rune_error_t *err)
{
	if (setsid() < 0)
		return rune_error(err, errno, "setsid");
	if (console_fd < 0)
		return 0;
	int r = librune_console_setup(console_fd, p, bind_console, err);
	close(console_fd);
	return r;
}

int librune_process_set_personality(const struct rune_config *c, rune_error_t *err)
{
	if (c->has_personality && personality(c->personality) < 0)
		return rune_error(err, errno, "linux.personality");
	return 0;
}

int librune_console_setup(int console_sock, const struct rune_process *p, bool bind_console, rune_error_t *err)
{
	cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	int unlock = 0, n;
	char slave_path[64];

	if (master < 0)
		return rune_error(err, errno, "open /dev/ptmx in the container (is devpts mounted on /dev/pts?)");
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
		return rune_error(err, errno, "unlock the pty");
	snprintf(slave_path, sizeof(slave_path), "/dev/pts/%d", n);
	cleanup_close int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return rune_error(err, errno, "open %s", slave_path);
	if (fchown(slave, p->uid, (gid_t) -1) < 0 && errno != EINVAL)
		return rune_error(err, errno, "chown %s", slave_path);
	if (p->console_width || p->console_height) {
		struct winsize ws = { .ws_row = p->console_height, .ws_col = p->console_width };
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	if (bind_console) {
		int fd = open("/dev/console", O_CREAT | O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0)
			close(fd);
		if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0)
			return rune_error(err, errno, "bind %s on /dev/console", slave_path);
	}
	if (librune_console_send_master(console_sock, master, err) < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return rune_error(err, errno, "dup2 terminal");
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		return rune_error(err, errno, "make the pty the controlling terminal");
	return 0;
}

void librune_process_prepare_fds(int preserve_fds, int keep_fd)
{
	/* Everything from 3 + preserve_fds on must not cross into the container
	 * (CVE-2024-21626): mark it close-on-exec rather than closing, so the fds
	 * we still need until execve stay valid. */
	unsigned first = 3 + (unsigned) preserve_fds;
	if (keep_fd >= (int) first) {
		if ((unsigned) keep_fd > first)
			syscall(SYS_close_range, first, (unsigned) keep_fd - 1, CLOSE_RANGE_CLOEXEC);
		syscall(SYS_close_range, (unsigned) keep_fd + 1, ~0U, CLOSE_RANGE_CLOEXEC);
	} else {
		syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC);
	}
	for (int fd = 3; fd < (int) first; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0)
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	/* Under a filter refusing fcntl this fails and keep_fd stays
	 * close-on-exec: rune-exec then finds it closed and only the report of
	 * a failed exec is lost. */
	int fl = keep_fd >= 0 ? fcntl(keep_fd, F_GETFD) : -1;
	if (fl >= 0 && (fl & FD_CLOEXEC))
		fcntl(keep_fd, F_SETFD, fl & ~FD_CLOEXEC);
}

int librune_process_exec(const char *path, const struct rune_process *p, int preserve_fds, int dmz_fd, int status_fd,
                         rune_error_t *err)
{
	static char *const empty_env[] = { NULL };
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	librune_process_prepare_fds(preserve_fds, dmz_fd >= 0 ? status_fd : -1);
	if (dmz_fd >= 0)
		return librune_dmz_exec(dmz_fd, status_fd, path, p->args, p->env ? p->env : empty_env, err);
	execve(path, p->args, p->env ? p->env : empty_env);
	return rune_error(err, errno, "exec %s", path);
}
