/* rune-attest get-resource --path repo/type/tag: the secret on stdout (or,
 * with --output, in a new 0600 file), as kbs-client prints it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "attest_cli.h"
#include "cleanup.h"
#include "util.h"

int cmd_get_resource(struct attest_cli *c, rune_error_t *err)
{
	struct attest_ctx *ctx = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	if (c->path == NULL) {
		rune_error(err, 0, "get-resource: --path repo/type/tag is required");
		return rune_error_set_exit(err, 2);
	}
	if (cli_attest_ctx(c, &ctx, err) < 0)
		return -1;
	int rc = attest_get_resource(ctx, c->path, 0, &data, &len, err);
	attest_ctx_free(ctx);
	if (rc < 0)
		return -1;
	if (c->out_file) {
		/* O_EXCL: never write a secret through someone else's file. */
		cleanup_close int fd = open(c->out_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = rune_error(err, errno, "get-resource: create %s", c->out_file);
		} else if (rune_write_all(fd, data, len) < 0 || close(take_fd(&fd)) < 0) {
			rc = rune_error(err, errno, "get-resource: write %s", c->out_file);
			unlink(c->out_file); /* ours, and incomplete */
		}
	} else if (rune_write_all(STDOUT_FILENO, data, len) < 0) {
		rc = rune_error(err, errno, "get-resource: write to stdout");
	}
	attest_secret_free(data, len);
	return rc;
}
