/* AppArmor profiles and SELinux labels: applied where the host has the LSM,
 * refused with a clear error where it has not. */
#ifndef RUNE_LSM_H
#define RUNE_LSM_H

#include <stdbool.h>

#include "oci_config.h"
#include "error.h"

bool librune_lsm_apparmor_enabled(void);
bool librune_lsm_selinux_enabled(void);
/* Refuse a profile or label the host cannot honour (where names the fields). */
int librune_lsm_check(const struct rune_process *p, const char *mount_label, const char *where, rune_error_t *err);
/* Arrange for the next execve to run under p's profile / label. */
int librune_lsm_apply_on_exec(const struct rune_process *p, rune_error_t *err);

#endif
