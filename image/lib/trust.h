/* The policy decision (trust.c): containers-policy.json's requirements for an
 * image, evaluated against the signatures registries.d and the registry
 * point to, before any config or layer of the image is fetched. */
#ifndef RUNE_IMAGE_TRUST_H
#define RUNE_IMAGE_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "image_ctx.h"
#include "ref.h"
#include "registry.h"

/* What is being decided on: the reference as pulled, the manifest it names
 * (an index or an image manifest) and, for an index, the platform's manifest. */
struct trust_subject {
	const struct image_ref *ref;
	const char *top_digest;
	const char *top_body;
	size_t top_len;
	const char *manifest_digest; /* == top_digest without an index */
	const char *manifest_body;
	size_t manifest_len;
	/* Where signatures come from; NULL: a client is made when one is needed
	 * (an image unpacked from the store). */
	struct registry_client *client;
};

/* Load the policy and registries.d the options name, once: a pull checks
 * them before it touches the network. */
int image_trust_load(struct image_ctx *c, rune_error_t *err);
/* Evaluate the context's policy (loaded on first use) for s into v: 0 when
 * the policy could be evaluated, whatever it decided (v->accepted). */
int image_trust_evaluate(struct image_ctx *c, const struct trust_subject *s, struct image_verdict *v,
                         rune_error_t *err);
/* Evaluate, and fail with the refusal as one message naming the reference,
 * the policy, the scope and why each requirement failed. */
int image_trust_enforce(struct image_ctx *c, const struct trust_subject *s, rune_error_t *err);
/* Release what the context loaded. */
void image_trust_release(struct image_ctx *c);

#endif
