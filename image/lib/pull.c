/* Pulling: resolve the reference (resolve.c), then let the fetch pool
 * (fetch.c) bring every layer into the store, and record the reference.
 * Encrypted layers are stored as they are (ciphertext); with decryption keys
 * given, each one's key is opened first, so a wrong key fails the pull before
 * anything is fetched. */
#include <string.h>

#include "decrypt.h"
#include "fetch.h"
#include "resolve.h"
#include "trust.h"

int image_pull(struct image_ctx *c, const char *refstr, struct image_result *res, rune_error_t *err)
{
	cleanup_registry_client struct registry_client *client = NULL;
	cleanup_resolved struct resolved r = { 0 };
	struct fetch f;
	int rc = 0;

	if (res)
		memset(res, 0, sizeof(*res));
	bool keys;
	struct layer_secret *secrets = NULL;
	if (image_trust_load(c, err) < 0 || image_decryption_available(c, &keys, err) < 0
	    || image_resolve_client(c, refstr, &client, err) < 0 || image_resolve_remote(c, client, refstr, &r, err) < 0
	    || (keys && image_layers_open(c, &r.m, &secrets, err) < 0))
		return -1;
	image_layer_secrets_free(secrets, r.m.n_layers);
	image_fetch_start(&f, c, client, &r.m);
	for (size_t i = 0; rc == 0 && i < r.m.n_layers; i++)
		rc = image_fetch_wait(&f, i, err);
	image_fetch_finish(&f, res);
	if (rc < 0 || image_resolved_record(c, &r, err) < 0)
		return -1;
	image_resolved_result(&r, client, res);
	return 0;
}
