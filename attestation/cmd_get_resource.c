/* rune-attest get-resource --path repo/type/tag: the secret on stdout (or,
 * with --output, in a new 0600 file), as kbs-client prints it. Several
 * --path share one attestation (the token is reused). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "attest_cli.h"
#include "cleanup.h"
#include "util.h"

static int emit(struct attest_cli *c, const unsigned char *data, size_t len, rune_error_t *err)
{
	if (c->out_file == NULL) {
		if (rune_write_all(STDOUT_FILENO, data, len) < 0)
			return rune_error(err, errno, "get-resource: write to stdout");
		return 0;
	}
	/* O_EXCL: never write a secret through someone else's file. */
	cleanup_close int fd = open(c->out_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return rune_error(err, errno, "get-resource: create %s", c->out_file);
	if (rune_write_all(fd, data, len) < 0 || close(take_fd(&fd)) < 0) {
		rune_error(err, errno, "get-resource: write %s", c->out_file);
		unlink(c->out_file); /* ours, and incomplete */
		return -1;
	}
	return 0;
}

int cmd_get_resource(struct attest_cli *c, rune_error_t *err)
{
	struct attest_ctx *ctx = NULL;
	if (c->n_paths == 0 || (c->out_file && c->n_paths > 1)) {
		rune_error(err, 0, "get-resource: --path repo/type/tag is required (one with --output)");
		return rune_error_set_exit(err, 2);
	}
	if (cli_attest_ctx(c, &ctx, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < c->n_paths && rc == 0; i++) {
		unsigned char *data = NULL;
		size_t len = 0;
		rc = attest_get_resource(ctx, c->paths[i], 0, &data, &len, err);
		if (rc == 0)
			rc = emit(c, data, len, err);
		attest_secret_free(data, len);
	}
	attest_ctx_free(ctx);
	return rc;
}
