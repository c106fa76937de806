/* rune-image verify REF: what the policy decides for an image and why,
 * requirement by requirement and signature by signature, without pulling it.
 * Exit 0 when accepted, 1 when rejected or the policy could not be applied. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "image_cli.h"
#include "json.h"

static void print_json(const struct image_verdict *v)
{
	yajl_gen g = rune_json_gen_new(true, "  ");
	yajl_gen_map_open(g);
	rune_json_gen_kv_str(g, "reference", v->reference);
	rune_json_gen_kv_str(g, "digest", v->digest);
	rune_json_gen_kv_str(g, "manifestDigest", v->manifest_digest);
	rune_json_gen_kv_str(g, "policy", v->policy);
	rune_json_gen_kv_str(g, "scope", v->scope);
	rune_json_gen_kv_bool(g, "accepted", v->accepted);
	rune_json_gen_key(g, "requirements");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < v->n_reqs; i++) {
		const struct image_req_check *rc = &v->reqs[i];
		yajl_gen_map_open(g);
		rune_json_gen_kv_str(g, "requirement", rc->requirement);
		rune_json_gen_kv_bool(g, "accepted", rc->accepted);
		if (rc->detail)
			rune_json_gen_kv_str(g, "detail", rc->detail);
		rune_json_gen_key(g, "signatures");
		yajl_gen_array_open(g);
		for (size_t k = 0; k < rc->n_sigs; k++) {
			yajl_gen_map_open(g);
			rune_json_gen_kv_str(g, "origin", rc->sigs[k].origin);
			rune_json_gen_kv_bool(g, "accepted", rc->sigs[k].accepted);
			rune_json_gen_kv_str(g, "detail", rc->sigs[k].detail);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	cli_print_json(g);
}

static void print_text(const struct image_verdict *v)
{
	printf("image:    %s\n", v->reference);
	printf("digest:   %s\n", v->digest);
	if (v->manifest_digest && v->digest && strcmp(v->manifest_digest, v->digest) != 0)
		printf("platform: %s\n", v->manifest_digest);
	printf("policy:   %s\n", v->policy);
	printf("scope:    %s\n", v->scope);
	for (size_t i = 0; i < v->n_reqs; i++) {
		const struct image_req_check *rc = &v->reqs[i];
		printf("requirement %zu: %s: %s\n", i + 1, rc->requirement, rc->accepted ? "accepted" : "rejected");
		if (rc->detail)
			printf("  %s\n", rc->detail);
		for (size_t k = 0; k < rc->n_sigs; k++)
			printf("  signature %zu (%s): %s: %s\n", k + 1, rc->sigs[k].origin,
			       rc->sigs[k].accepted ? "accepted" : "rejected", rc->sigs[k].detail);
	}
	printf("verdict:  %s\n", v->accepted ? "accepted" : "rejected");
}

int cmd_verify(struct image_cli *c, rune_error_t *err)
{
	struct image_ctx *ctx;
	struct image_verdict v;
	if (cli_want_operands(c, 1, "verify [options] REF", err) < 0)
		return -1;
	if (image_ctx_new(&c->o, &ctx, err) < 0)
		return -1;
	int rc = image_verify(ctx, c->argv[1], &v, err);
	image_ctx_free(ctx);
	if (rc < 0)
		return -1;
	if (c->json)
		print_json(&v);
	else
		print_text(&v);
	if (!v.accepted) {
		rune_error(err, 0, "%s: rejected by policy %s", v.reference, v.policy);
		(*err)->status = EPERM;
		rc = -1;
	}
	image_verdict_release(&v);
	return rc;
}
