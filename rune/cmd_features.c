#include <linux/capability.h>
#include <string.h>
#include <sys/capability.h>

#include "cleanup.h"
#include "rune_cli.h"
#include "oci_config.h"
#include "container.h"
#include "json.h"
#include "lsm.h"
#include "seccomp_filter.h"

/* What this build really supports; kept in step with config.c and rootfs.c. */
int cmd_features(struct rune_cli *cli, int argc, char **argv, rune_error_t *err)
{
	static const char *mount_options[] = {
		"async",       "atime",        "bind",       "defaults",      "dev",         "diratime",
		"dirsync",     "exec",         "idmap",      "iversion",      "lazytime",    "loud",
		"mand",        "noatime",      "nodev",      "nodiratime",    "noexec",      "noiversion",
		"nolazytime",  "nomand",       "norelatime", "nostrictatime", "nosuid",      "nosymfollow",
		"private",     "rbind",        "rdev",       "rdiratime",     "relatime",    "remount",
		"rexec",       "ridmap",       "rnoatime",   "rnodev",        "rnodiratime", "rnoexec",
		"rnosuid",     "rnosymfollow", "ro",         "rprivate",      "rrelatime",   "rro",
		"rrw",         "rshared",      "rslave",     "rstrictatime",  "rsuid",       "rsymfollow",
		"runbindable", "rw",           "shared",     "silent",        "slave",       "strictatime",
		"suid",        "symfollow",    "sync",       "tmpcopyup",     "unbindable",  NULL,
	};
	static const char *namespaces[] = { "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts", NULL };
	yajl_gen gen = rune_json_gen_new(true, "    ");

	yajl_gen_map_open(gen);
	rune_json_gen_kv_str(gen, "ociVersionMin", "1.0.0");
	rune_json_gen_kv_str(gen, "ociVersionMax", RUNE_OCI_VERSION);
	rune_json_gen_key(gen, "hooks");
	yajl_gen_array_open(gen);
	for (int k = 0; k < HOOK_KINDS; k++)
		rune_json_gen_str(gen, librune_hook_kind_name(k));
	yajl_gen_array_close(gen);
	rune_json_gen_key(gen, "mountOptions");
	rune_json_gen_strv(gen, mount_options);
	rune_json_gen_key(gen, "linux");
	yajl_gen_map_open(gen);
	rune_json_gen_key(gen, "namespaces");
	rune_json_gen_strv(gen, namespaces);
	rune_json_gen_key(gen, "capabilities");
	yajl_gen_array_open(gen);
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
		char *name = cap_to_name(cap); /* libcap memory: cap_free */
		for (char *p = name; p && *p; p++)
			*p = (*p >= 'a' && *p <= 'z') ? *p - 32 : *p;
		if (name && strncmp(name, "CAP_", 4) == 0)
			rune_json_gen_str(gen, name);
		cap_free(name);
	}
	yajl_gen_array_close(gen);
	rune_json_gen_key(gen, "cgroup");
	yajl_gen_map_open(gen);
	rune_json_gen_kv_bool(gen, "v1", true);
	rune_json_gen_kv_bool(gen, "v2", true);
	rune_json_gen_kv_bool(gen, "systemd", true);
	rune_json_gen_kv_bool(gen, "systemdUser", false);
	yajl_gen_map_close(gen);
	rune_json_gen_key(gen, "seccomp");
	yajl_gen_map_open(gen);
	rune_json_gen_kv_bool(gen, "enabled", true);
	rune_json_gen_key(gen, "actions");
	rune_json_gen_strv(gen, (const char **) librune_seccomp_action_names);
	rune_json_gen_key(gen, "operators");
	rune_json_gen_strv(gen, (const char **) librune_seccomp_operator_names);
	rune_json_gen_key(gen, "archs");
	rune_json_gen_strv(gen, (const char **) librune_seccomp_arch_names);
	rune_json_gen_key(gen, "knownFlags");
	rune_json_gen_strv(gen, (const char **) librune_seccomp_flag_names);
	rune_json_gen_key(gen, "supportedFlags");
	rune_json_gen_strv(gen, (const char **) librune_seccomp_flag_names);
	yajl_gen_map_close(gen);
	rune_json_gen_key(gen, "mountExtensions");
	yajl_gen_map_open(gen);
	rune_json_gen_key(gen, "idmap");
	yajl_gen_map_open(gen);
	rune_json_gen_kv_bool(gen, "enabled", true);
	yajl_gen_map_close(gen);
	yajl_gen_map_close(gen);
	rune_json_gen_key(gen, "apparmor");
	yajl_gen_map_open(gen);
	rune_json_gen_kv_bool(gen, "enabled", librune_lsm_apparmor_enabled());
	yajl_gen_map_close(gen);
	rune_json_gen_key(gen, "selinux");
	yajl_gen_map_open(gen);
	rune_json_gen_kv_bool(gen, "enabled", librune_lsm_selinux_enabled());
	yajl_gen_map_close(gen);
	rune_json_gen_key(gen, "intelRdt");
	yajl_gen_map_open(gen);
	rune_json_gen_kv_bool(gen, "enabled", false);
	yajl_gen_map_close(gen);
	yajl_gen_map_close(gen);
	rune_json_gen_key(gen, "annotations");
	yajl_gen_map_open(gen);
	rune_json_gen_kv_str(gen, "org.opencontainers.runc.version", "rune " RUNE_VERSION);
	rune_json_gen_kv_str(gen, "io.github.rune.commit", RUNE_COMMIT);
	yajl_gen_map_close(gen);
	yajl_gen_map_close(gen);
	cli_print_json(gen);
	return 0;
}
