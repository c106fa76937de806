#include "lsm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

bool librune_lsm_apparmor_enabled(void)
{
	char c = 0;
	cleanup_close int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	return fd >= 0 && read(fd, &c, 1) == 1 && c == 'Y';
}

bool librune_lsm_selinux_enabled(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

int librune_lsm_check(const struct rune_process *p, const char *mount_label, const char *where, rune_error_t *err)
{
	if (p->apparmor_profile && *p->apparmor_profile && !librune_lsm_apparmor_enabled())
		return rune_error(err, ENOTSUP, "%s.apparmorProfile \"%s\": AppArmor is not enabled on this host",
		                  where, p->apparmor_profile);
	if (p->selinux_label && *p->selinux_label && !librune_lsm_selinux_enabled())
		return rune_error(err, ENOTSUP, "%s.selinuxLabel \"%s\": SELinux is not enabled on this host", where,
		                  p->selinux_label);
	if (mount_label && *mount_label && !librune_lsm_selinux_enabled())
		return rune_error(err, ENOTSUP, "linux.mountLabel \"%s\": SELinux is not enabled on this host",
		                  mount_label);
	return 0;
}

static int write_attr(const char *path, const char *value, const char *what, rune_error_t *err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, strlen(value)) < 0)
		return rune_error(err, errno, "%s: write %s", what, path);
	return 0;
}

int librune_lsm_apply_on_exec(const struct rune_process *p, rune_error_t *err)
{
	if (p->apparmor_profile && *p->apparmor_profile) {
		cleanup_free char *v = xasprintf("exec %s", p->apparmor_profile);
		const char *path = access("/proc/self/attr/apparmor/exec", F_OK) == 0 ? "/proc/self/attr/apparmor/exec"
		                                                                      : "/proc/self/attr/exec";
		if (write_attr(path, v, "process.apparmorProfile", err) < 0)
			return -1;
	}
	if (p->selinux_label && *p->selinux_label
	    && write_attr("/proc/self/attr/exec", p->selinux_label, "process.selinuxLabel", err) < 0)
		return -1;
	return 0;
}
