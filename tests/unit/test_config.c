/* Unit tests: config.json parsing and its errors, mount options, ids, time format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "oci_config.h"
#include "container.h"
#include "util.h"

#include "check.h"

/* Parse text; return the error message (static) or NULL on success. */
static const char *parse_err(const char *text)
{
	static char msg[1024];
	struct rune_config *c = NULL;
	rune_error_t err = NULL;
	if (librune_config_parse(text, "config.json", &c, &err) == 0) {
		librune_config_free(c);
		return NULL;
	}
	snprintf(msg, sizeof(msg), "%s", err->msg);
	rune_error_release(&err);
	return msg;
}

#define BASE "\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}"
#define PROC "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\""

static void test_errors_name_fields(void)
{
	const char *e;
	CHECK(parse_err("{" BASE ", " PROC "}}") == NULL);
	e = parse_err("{" BASE ", \"process\": {\"args\": \"sh\", \"cwd\": \"/\"}}");
	CHECK(e && strstr(e, "config.json") && strstr(e, "process.args"));
	e = parse_err("{" BASE ", \"process\": {\"args\": [\"sh\", 3], \"cwd\": \"/\"}}");
	CHECK(e && strstr(e, "process.args[1]"));
	e = parse_err("{" BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"rel\"}}");
	CHECK(e && strstr(e, "process.cwd"));
	e = parse_err("{" BASE ", \"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\"}, {\"destination\": 5}]}");
	CHECK(e && strstr(e, "mounts[1].destination"));
	e = parse_err("{" BASE ", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"bogus\"}]}}");
	CHECK(e && strstr(e, "linux.namespaces[1].type") && strstr(e, "bogus"));
	e = parse_err("{" BASE ", " PROC ", \"capabilities\": {\"bounding\": [\"CAP_NOPE\"]}}}");
	CHECK(e && strstr(e, "process.capabilities.bounding[0]") && strstr(e, "CAP_NOPE"));
	e = parse_err("{" BASE ", \"hooks\": {\"prestart\": [{\"path\": \"relative\"}]}}");
	CHECK(e && strstr(e, "hooks.prestart[0].path"));
	e = parse_err("{\"root\": {\"path\": \"rootfs\"}}");
	CHECK(e && strstr(e, "ociVersion"));
	e = parse_err("{ \"ociVersion\": ");
	CHECK(e && strstr(e, "invalid JSON"));
	e = parse_err("[]");
	CHECK(e && strstr(e, "JSON object"));
	e = parse_err("{" BASE ", " PROC ", \"rlimits\": "
	              "[{\"type\": \"RLIMIT_NOFILE\", \"soft\": -1, \"hard\": 1}]}}");
	CHECK(e && strstr(e, "process.rlimits[0].soft"));
}

static void test_large_rlimits_and_values(void)
{
	struct rune_config *c = NULL;
	rune_error_t err = NULL;
	const char *t = "{" BASE ", " PROC ", \"rlimits\": [{\"type\": \"RLIMIT_CORE\", "
	                "\"soft\": 18446744073709551615, \"hard\": 18446744073709551615}], \"oomScoreAdj\": -500}, "
	                "\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}], "
	                "\"rootfsPropagation\": \"rslave\"}}";
	CHECK(librune_config_parse(t, "config.json", &c, &err) == 0);
	if (c) {
		CHECK(c->process.n_rlimits == 1 && c->process.rlimits[0].soft == UINT64_MAX);
		CHECK(c->process.oom_score_adj == -500);
		CHECK(c->ns[NS_NET].present && strcmp(c->ns[NS_NET].path, "/proc/1/ns/net") == 0);
		CHECK(c->rootfs_propagation == (MS_SLAVE | MS_REC));
		librune_config_free(c);
	}
	rune_error_release(&err);
}

static void test_mount_options(void)
{
	char *opts[] = { "rbind", "ro", "nosuid", "rprivate", "mode=755", "size=1m", "rro", NULL };
	struct rune_mount m = { .options = opts, .type = "none" };
	CHECK(librune_mount_options_parse(&m, "mounts[0].options", NULL) == 0);
	CHECK(m.bind);
	CHECK((m.flags & (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID)) == (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID));
	CHECK(m.propagation == (MS_PRIVATE | MS_REC));
	CHECK(m.data && strcmp(m.data, "mode=755,size=1m") == 0);
	CHECK(m.attr_set != 0);
	free(m.data);
	char *opts2[] = { "ro", "rw", NULL };
	struct rune_mount m2 = { .options = opts2, .type = "tmpfs" };
	librune_mount_options_parse(&m2, "x", NULL);
	CHECK(!(m2.flags & MS_RDONLY));
	free(m2.data);
}

static void test_ids_and_time(void)
{
	CHECK(librune_container_validate_id("abc-1.2_+", NULL) == 0);
	CHECK(librune_container_validate_id("a/b", NULL) < 0);
	CHECK(librune_container_validate_id("..", NULL) < 0);
	CHECK(librune_container_validate_id("", NULL) < 0);
	char buf[64];
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 120000000 };
	rune_format_rfc3339nano(&ts, true, buf, sizeof(buf));
	CHECK(strcmp(buf, "1970-01-01T00:00:00.12Z") == 0);
	ts.tv_nsec = 0;
	rune_format_rfc3339nano(&ts, true, buf, sizeof(buf));
	CHECK(strcmp(buf, "1970-01-01T00:00:00Z") == 0);
}

int main(void)
{
	test_errors_name_fields();
	test_large_rlimits_and_values();
	test_mount_options();
	test_ids_and_time();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
