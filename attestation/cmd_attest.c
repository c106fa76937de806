/* rune-attest attest: the handshake, then the token on stdout. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "attest_cli.h"

int cmd_attest(struct attest_cli *c, rune_error_t *err)
{
	struct attest_ctx *ctx = NULL;
	char *token = NULL;
	if (cli_attest_ctx(c, &ctx, err) < 0)
		return -1;
	int rc = attest_token(ctx, &token, err);
	if (rc == 0) {
		printf("%s\n", token);
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	attest_ctx_free(ctx);
	return rc;
}
