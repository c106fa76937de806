/* Verifying without pulling: the manifests, the signatures the policy asks
 * for and its verdict; no config or layer is fetched, nothing is stored. */
#include <string.h>

#include "resolve.h"
#include "trust.h"

int image_verify(struct image_ctx *c, const char *refstr, struct image_verdict *v, rune_error_t *err)
{
	cleanup_registry_client struct registry_client *client = NULL;
	cleanup_resolved struct resolved r = { 0 };
	struct manifest_bodies b = { 0 };
	struct trust_subject s;
	memset(v, 0, sizeof(*v));
	if (image_trust_load(c, err) < 0 || image_resolve_client(c, refstr, &client, err) < 0)
		return -1;
	int rc = image_resolve_manifests(c, client, refstr, &r, &b, err);
	if (rc == 0) {
		image_resolved_subject(&r, &b, client, &s);
		rc = image_trust_evaluate(c, &s, v, err);
	}
	image_manifest_bodies_release(&b);
	return rc;
}
