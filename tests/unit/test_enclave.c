/* Unit tests: enclave settings from env and annotations, exit value decoding,
 * log levels, PAL file checks. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "oci_config.h"
#include "enclave.h"
#include "loader.h"
#include "util.h"

#include "check.h"

#define BASE "\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}"

static struct rune_config *parse(const char *text, char *errbuf, size_t len)
{
	struct rune_config *c = NULL;
	rune_error_t err = NULL;
	errbuf[0] = '\0';
	if (librune_config_parse(text, "config.json", &c, &err) < 0) {
		snprintf(errbuf, len, "%s", err->msg);
		rune_error_release(&err);
		return NULL;
	}
	return c;
}

static void test_settings(void)
{
	char e[1024];
	struct rune_config *c;

	c = parse("{" BASE
	          ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"env\": [\"A=1\", \"ENCLAVE_TYPE=sim\","
	          "\"ENCLAVE_RUNTIME_PATH=/p.so\", \"ENCLAVE_RUNTIME_ARGS=a,b\", \"B=2\"]},"
	          "\"annotations\": {\"enclave.type\": \"intelSgx\", \"enclave.runtime.loglevel\": \"loud\"}}",
	          e, sizeof(e));
	CHECK(c && c->enclave);
	if (c && c->enclave) {
		CHECK(strcmp(c->enclave->type, "sim") == 0); /* env wins */
		CHECK(c->enclave->simulation);
		CHECK(strcmp(c->enclave->path, "/p.so") == 0);
		CHECK(strcmp(c->enclave->args, "a b") == 0);
		CHECK(strcmp(c->enclave->loglevel, "info") == 0); /* unknown level */
		/* The config stays as written; the workload sees its env without the settings. */
		CHECK(rune_strv_len(c->process.env) == 5);
		char **env = librune_enclave_workload_env(c->process.env);
		CHECK(strcmp(env[0], "A=1") == 0 && strcmp(env[1], "B=2") == 0 && env[2] == NULL);
		cleanup_strvp(&env);
	}
	librune_config_free(c);

	c = parse("{" BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"},"
	          "\"annotations\": {\"enclave.type\": \"intelSgx\", \"enclave.runtime.path\": \"/x.so\"}}",
	          e, sizeof(e));
	CHECK(c && c->enclave && !c->enclave->simulation && strcmp(c->enclave->args, "") == 0);
	librune_config_free(c);

	c = parse("{" BASE ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}}", e, sizeof(e));
	CHECK(c && c->enclave == NULL);
	librune_config_free(c);

	c = parse("{" BASE
	          ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}, \"annotations\": {\"enclave.type\": 3}}",
	          e, sizeof(e));
	CHECK(c == NULL && strstr(e, "annotations[\"enclave.type\"]"));
	librune_config_free(c);

	c = parse("{" BASE
	          ", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}, \"annotations\": {\"enclave.type\": \"tdx\","
	          "\"enclave.runtime.path\": \"/x.so\"}}",
	          e, sizeof(e));
	CHECK(c == NULL && strstr(e, "enclave.type \"tdx\": unknown"));
	librune_config_free(c);
}

static void test_exit_values(void)
{
	CHECK(pal_runtime_exit_code(0) == 0);
	CHECK(pal_runtime_exit_code(1 << 8) == 1);
	CHECK(pal_runtime_exit_code(42 << 8) == 42);
	CHECK(pal_runtime_exit_code(SIGKILL) == 137);
	CHECK(pal_runtime_exit_code(SIGTERM | 0x80) == 128 + SIGTERM); /* core dumped */
	CHECK(pal_runtime_exit_code(0x10000 + 3) == 3);                /* not a wait status */
}

static void test_levels_and_files(void)
{
	rune_error_t err = NULL;
	CHECK(strcmp(pal_runtime_log_level("debug"), "debug") == 0);
	CHECK(strcmp(pal_runtime_log_level("off"), "off") == 0);
	CHECK(strcmp(pal_runtime_log_level("DEBUG"), "info") == 0);
	CHECK(strcmp(pal_runtime_log_level(NULL), "info") == 0);
	CHECK(pal_runtime_check_file("relative.so", &err) < 0 && strstr(err->msg, "absolute"));
	rune_error_release(&err);
	CHECK(pal_runtime_check_file("/etc/passwd", &err) < 0 && strstr(err->msg, "not an ELF file"));
	rune_error_release(&err);
	CHECK(pal_runtime_check_file("/", &err) < 0);
	rune_error_release(&err);
	CHECK(pal_runtime_check_file("/nonexistent.so", &err) < 0 && err->status == ENOENT);
	rune_error_release(&err);
}

int main(void)
{
	test_settings();
	test_exit_values();
	test_levels_and_files();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
