/* The kernel's floor under `run /bin/true`: what every runtime must ask of
 * the kernel for `rune spec`'s default container, and nothing else — a
 * cgroup in each v1 hierarchy, a child in new mount, network, PID, IPC and
 * UTS namespaces, the spec's mounts (proc, a tmpfs /dev with its device
 * nodes, devpts, shm, mqueue, a read-only sysfs, the container's cgroups
 * bound read-only under a tmpfs), pivot_root, the masked and read-only
 * paths, the root made read-only, the hostname, exec, wait, the cgroups
 * removed. No config, no state, no checks, no
 * capabilities or rlimits: a lower bound, not a runtime
 * (tests/bench/lifecycle.sh puts it beside rune and crun).
 * Usage: floor ROOTFS */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *rootfs;
static int go[2];
static char dirs[16][512], names[16][256];
static int n_dirs;

#define CHECK(x)                                                                                                       \
	do {                                                                                                           \
		if ((x) < 0) {                                                                                         \
			perror(#x);                                                                                    \
			_exit(1);                                                                                      \
		}                                                                                                      \
	} while (0)

static int child(void *arg)
{
	char c, path[4096];
	(void) arg;
	close(go[1]);
	/* into the cgroups: each hierarchy's tasks file, by the process itself
	 * (the one migration without the kernel's global threadgroup lock and
	 * its RCU grace period — what rune does too) */
	for (int i = 0; i < n_dirs; i++) {
		snprintf(path, sizeof(path), "%.600s/tasks", dirs[i]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue; /* cgroup2: the parent moves us */
		CHECK(fd);
		/* (as before: the v1 cpuset hierarchy refuses a member until its
		 * cpus and mems are set, which the floor leaves out) */
		if (write(fd, "0", 1) < 0 && errno != ENOSPC)
			CHECK(-1);
		close(fd);
	}
	CHECK(read(go[0], &c, 1));
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	CHECK(mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL));
	CHECK(chdir(rootfs));
	CHECK(mount("proc", "proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL));
	CHECK(mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"));
	const struct {
		const char *name;
		int major, minor;
	} devs[] = {
		{ "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
		{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
	};
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		snprintf(path, sizeof(path), "dev/%s", devs[i].name);
		CHECK(mknod(path, S_IFCHR | 0666, makedev(devs[i].major, devs[i].minor)));
	}
	CHECK(mkdir("dev/pts", 0755));
	CHECK(mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"));
	CHECK(mkdir("dev/shm", 0755));
	CHECK(mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=1777,size=65536k"));
	CHECK(mkdir("dev/mqueue", 0755));
	CHECK(mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL));
	CHECK(mount("sysfs", "sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL));
	CHECK(mount("tmpfs", "sys/fs/cgroup", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=755"));
	for (int i = 0; i < n_dirs; i++) {
		snprintf(path, sizeof(path), "sys/fs/cgroup/%.255s", names[i]);
		CHECK(mkdir(path, 0755));
		CHECK(mount(dirs[i], path, NULL, MS_BIND, NULL));
		CHECK(
		    mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL));
	}
	CHECK(mount(NULL, "sys/fs/cgroup", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL));
	CHECK(syscall(SYS_pivot_root, ".", "."));
	CHECK(umount2(".", MNT_DETACH));
	CHECK(chdir("/"));
	const char *masked[] = { "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
		                 "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		                 "/sys/firmware",       "/proc/scsi" };
	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		struct stat st;
		if (stat(masked[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			CHECK(mount("tmpfs", masked[i], "tmpfs", MS_RDONLY, NULL));
		else
			CHECK(mount("/dev/null", masked[i], NULL, MS_BIND, NULL));
	}
	const char *readonly[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };
	for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++) {
		if (access(readonly[i], F_OK) < 0)
			continue;
		CHECK(mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL));
		CHECK(mount(NULL, readonly[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL));
	}
	CHECK(mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL));
	CHECK(sethostname("floor", 5));
	char *argv[] = { "/bin/true", NULL };
	execv(argv[0], argv);
	perror("execv");
	return 1;
}

int main(int argc, char **argv)
{
	static char stack[256 * 1024];
	char path[1024];
	int n = 0;
	if (argc != 2)
		return 2;
	rootfs = argv[1];
	/* a cgroup in each v1 hierarchy, as runc and crun make */
	DIR *d = opendir("/sys/fs/cgroup");
	for (struct dirent *e; d && (e = readdir(d)) != NULL && n < 16;) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/cgroup.procs", e->d_name);
		if (e->d_name[0] == '.' || access(path, F_OK) < 0)
			continue;
		snprintf(dirs[n], sizeof(dirs[n]), "/sys/fs/cgroup/%.255s/floor-%d", e->d_name, (int) getpid());
		snprintf(names[n], sizeof(names[n]), "%.255s", e->d_name);
		if (mkdir(dirs[n], 0755) == 0)
			n++;
	}
	if (d)
		closedir(d);
	n_dirs = n;
	CHECK(pipe(go));
	pid_t pid = clone(child, stack + sizeof(stack),
	                  CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, NULL);
	CHECK(pid);
	close(go[0]);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%.600s/tasks", dirs[i]);
		if (access(path, F_OK) == 0)
			continue;
		snprintf(path, sizeof(path), "%.600s/cgroup.procs", dirs[i]);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			dprintf(fd, "%d", (int) pid);
			close(fd);
		}
	}
	CHECK(write(go[1], "x", 1));
	int status;
	CHECK(waitpid(pid, &status, 0));
	for (int i = 0; i < n; i++)
		rmdir(dirs[i]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
