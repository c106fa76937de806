/* rune-attest evidence: what this TEE would send, for debugging. */
#include <stdio.h>
#include <stdlib.h>

#include "attest_cli.h"

int cmd_evidence(struct attest_cli *c, rune_error_t *err)
{
	struct attest_ctx *ctx = NULL;
	char *json = NULL;
	/* No KBS is contacted: any URL will do when none is configured. */
	if (c->o.url == NULL && getenv("AA_KBC_PARAMS") == NULL)
		c->o.url = "http://127.0.0.1";
	if (cli_attest_ctx(c, &ctx, err) < 0)
		return -1;
	int rc = attest_evidence(ctx, c->nonce, &json, err);
	if (rc == 0)
		printf("%s\n", json);
	free(json);
	attest_ctx_free(ctx);
	return rc;
}
