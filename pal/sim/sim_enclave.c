/* The simulated enclave's box: its own mount namespace and a seccomp filter. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "palproc.h"
#include "sim.h"

/* Flags a remount must repeat or the kernel refuses it in a user namespace. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

static int fail(const char *what)
{
	int e = errno;
	pal_log(PAL_LOG_ERROR, "enclave filesystem: %s: %s", what, strerror(e));
	return -e;
}

int sim_enter_enclave_fs(const struct sim_config *cfg)
{
	struct stat st;
	if (unshare(CLONE_NEWNS) < 0)
		return fail("create the enclave's mount namespace (needs CAP_SYS_ADMIN)");
	/* Nothing mounted here may reach the container's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return fail("make / a slave");
	if (!cfg->keep_sys && stat("/sys", &st) == 0 && umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL)
		return fail("detach /sys");
	/* The code the enclave measured cannot change under it. */
	if (!cfg->writable && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags("/"), NULL) < 0)
		return fail("remount / read-only");
	if (stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode)
	    && mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=65536k") < 0)
		return fail("mount a private /tmp");
	pal_log(PAL_LOG_DEBUG, "enclave filesystem: private mount namespace, root %s, /sys %s",
	        cfg->writable ? "writable" : "read-only", cfg->keep_sys ? "kept" : "removed");
	return 0;
}

/* Calls that would let the workload inspect another process, change the box,
 * or reach the kernel's administrative surface. */
static const int denied[] = {
	SCMP_SYS(ptrace),
	SCMP_SYS(process_vm_readv),
	SCMP_SYS(process_vm_writev),
	SCMP_SYS(kcmp),
	SCMP_SYS(pidfd_getfd),
	SCMP_SYS(mount),
	SCMP_SYS(umount2),
	SCMP_SYS(pivot_root),
	SCMP_SYS(unshare),
	SCMP_SYS(setns),
	SCMP_SYS(fsopen),
	SCMP_SYS(fsmount),
	SCMP_SYS(fsconfig),
	SCMP_SYS(move_mount),
	SCMP_SYS(open_tree),
	SCMP_SYS(mount_setattr),
	SCMP_SYS(bpf),
	SCMP_SYS(perf_event_open),
	SCMP_SYS(kexec_load),
	SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module),
	SCMP_SYS(finit_module),
	SCMP_SYS(delete_module),
	SCMP_SYS(open_by_handle_at),
	SCMP_SYS(name_to_handle_at),
	SCMP_SYS(keyctl),
	SCMP_SYS(add_key),
	SCMP_SYS(request_key),
	SCMP_SYS(userfaultfd),
	SCMP_SYS(iopl),
	SCMP_SYS(ioperm),
	SCMP_SYS(reboot),
	SCMP_SYS(swapon),
	SCMP_SYS(swapoff),
	SCMP_SYS(acct),
	SCMP_SYS(quotactl),
};

static const unsigned long new_ns_flags[] = { CLONE_NEWNS,  CLONE_NEWUSER, CLONE_NEWPID,   CLONE_NEWNET,
	                                      CLONE_NEWUTS, CLONE_NEWIPC,  CLONE_NEWCGROUP };

static int add_rules(scmp_filter_ctx ctx)
{
	int r = 0;
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(denied); i++)
		if (denied[i] >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(new_ns_flags); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
		                     SCMP_A0(SCMP_CMP_MASKED_EQ, new_ns_flags[i], new_ns_flags[i]));
	/* clone3 passes its flags in memory, out of a filter's sight: make libc fall back to clone. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return r;
}

int sim_build_filter(struct sock_fprog *prog)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r, fd = -1;
	off_t len = 0;
	if (ctx == NULL)
		return -ENOMEM;
	r = add_rules(ctx);
	/* Exported once here, so a forked child installs it with one prctl and
	 * no allocation. */
	if (r == 0 && (fd = memfd_create("sim-seccomp", MFD_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0)
		r = seccomp_export_bpf(ctx, fd);
	if (r == 0 && ((len = lseek(fd, 0, SEEK_END)) <= 0 || len % sizeof(struct sock_filter)))
		r = -EINVAL;
	if (r == 0) {
		prog->filter = malloc(len);
		prog->len = len / sizeof(struct sock_filter);
		if (prog->filter == NULL)
			r = -ENOMEM;
		else if (pread(fd, prog->filter, len, 0) != len)
			r = -EIO;
	}
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	if (r < 0)
		pal_log(PAL_LOG_ERROR, "build the enclave's seccomp filter: %s", strerror(-r));
	return r;
}
