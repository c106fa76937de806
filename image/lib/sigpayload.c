#include "sigpayload.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "ref.h"
#include "util.h"

#define SUBJECTS_MAX 1024 /* as sigstore-go bounds an in-toto statement */

/* A bounded, NUL-free copy for yajl (which reads C strings). */
static int parse_json(const unsigned char *data, size_t len, yajl_val *tree, char **why)
{
	if (memchr(data, '\0', len)) {
		*why = xstrdup("the payload contains a NUL byte");
		return -1;
	}
	cleanup_free char *text = strndup((const char *) data, len);
	cleanup_error rune_error_t err = NULL;
	if (rune_json_parse(text, "payload", tree, &err) < 0) {
		*why = xstrdup(err->msg);
		return -1;
	}
	return 0;
}

static int fields(yajl_val obj, const char *where, const struct rune_json_field *f, size_t n, char **why)
{
	cleanup_error rune_error_t err = NULL;
	if (rune_json_object_fields(obj, where, f, n, &err) < 0) {
		*why = xstrdup(err->msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (*f[i].value == NULL) {
			*why = xasprintf("%s: missing \"%s\"", where, f[i].name);
			return -1;
		}
	return 0;
}

static int payload_from_tree(yajl_val tree, const char *want_type, struct sig_payload *out, char **why)
{
	yajl_val critical, optional, type, image, identity, digest, ref;
	const struct rune_json_field top[] = { { "critical", &critical }, { "optional", &optional } };
	const struct rune_json_field crit[] = { { "type", &type }, { "image", &image }, { "identity", &identity } };
	const struct rune_json_field img[] = { { "docker-manifest-digest", &digest } };
	const struct rune_json_field id[] = { { "docker-reference", &ref } };
	if (fields(tree, "payload", top, ARRAY_SIZE(top), why) < 0
	    || fields(critical, "payload critical", crit, ARRAY_SIZE(crit), why) < 0)
		return -1;
	/* cosign writes "optional": null when it has no annotations. */
	bool null_ok = strcmp(want_type, SIG_TYPE_COSIGN) == 0 && YAJL_IS_NULL(optional);
	if (!YAJL_IS_OBJECT(optional) && !null_ok) {
		*why = xstrdup("payload optional: not an object");
		return -1;
	}
	if (!YAJL_IS_STRING(type)) {
		*why = xstrdup("payload critical.type: not a string");
		return -1;
	}
	if (strcmp(type->u.string, want_type) != 0) {
		*why = xasprintf("payload critical.type is \"%s\", not \"%s\"", type->u.string, want_type);
		return -1;
	}
	if (fields(image, "payload critical.image", img, ARRAY_SIZE(img), why) < 0
	    || fields(identity, "payload critical.identity", id, ARRAY_SIZE(id), why) < 0)
		return -1;
	if (!YAJL_IS_STRING(digest) || !YAJL_IS_STRING(ref)) {
		*why = xstrdup("payload: docker-manifest-digest and docker-reference must be strings");
		return -1;
	}
	cleanup_error rune_error_t err = NULL;
	if (image_digest_validate(digest->u.string, "payload critical.image.docker-manifest-digest", &err) < 0) {
		*why = xstrdup(err->msg);
		return -1;
	}
	out->digest = xstrdup(digest->u.string);
	out->identity = xstrdup(ref->u.string);
	return 0;
}

int image_sig_payload_parse(const unsigned char *data, size_t len, const char *want_type, struct sig_payload *out,
                            char **why)
{
	yajl_val tree;
	memset(out, 0, sizeof(*out));
	if (parse_json(data, len, &tree, why) < 0)
		return -1;
	int rc = payload_from_tree(tree, want_type, out, why);
	yajl_tree_free(tree);
	return rc;
}

void image_sig_payload_release(struct sig_payload *p)
{
	free(p->digest);
	free(p->identity);
	memset(p, 0, sizeof(*p));
}

static int subjects_from_tree(yajl_val tree, const char *want_predicate, struct intoto_subject **subjects, size_t *n,
                              char **why)
{
	yajl_val type = rune_json_get(tree, "_type"), list = rune_json_get(tree, "subject");
	yajl_val predicate_type = rune_json_get(tree, "predicateType");
	if (!YAJL_IS_STRING(type)
	    || (strcmp(type->u.string, "https://in-toto.io/Statement/v1") != 0
	        && strcmp(type->u.string, "https://in-toto.io/Statement/v0.1") != 0)) {
		*why = xstrdup("not an in-toto statement (_type is not https://in-toto.io/Statement/v1 or v0.1)");
		return -1;
	}
	if (want_predicate
	    && (!YAJL_IS_STRING(predicate_type) || strcmp(predicate_type->u.string, want_predicate) != 0)) {
		*why = xasprintf("in-toto predicateType is %s%s%s, not %s (an attestation, not an image signature)",
		                 YAJL_IS_STRING(predicate_type) ? "\"" : "",
		                 YAJL_IS_STRING(predicate_type) ? predicate_type->u.string : "missing",
		                 YAJL_IS_STRING(predicate_type) ? "\"" : "", want_predicate);
		return -1;
	}
	if (!YAJL_IS_ARRAY(list) || list->u.array.len == 0 || list->u.array.len > SUBJECTS_MAX) {
		*why = xasprintf("in-toto subject: want an array of 1 to %d subjects", SUBJECTS_MAX);
		return -1;
	}
	*subjects = xcalloc(list->u.array.len, sizeof(**subjects));
	for (size_t i = 0; i < list->u.array.len; i++) {
		yajl_val s = list->u.array.values[i];
		yajl_val name = rune_json_get(s, "name"), sha = rune_json_get(rune_json_get(s, "digest"), "sha256");
		if (!YAJL_IS_OBJECT(s) || (name && !YAJL_IS_STRING(name)) || (sha && !YAJL_IS_STRING(sha))) {
			*why = xasprintf("in-toto subject[%zu]: malformed", i);
			return -1;
		}
		(*n)++;
		(*subjects)[i].name = name && *name->u.string ? xstrdup(name->u.string) : NULL;
		(*subjects)[i].sha256 = sha ? xstrdup(sha->u.string) : NULL;
	}
	return 0;
}

int image_intoto_parse(const unsigned char *data, size_t len, const char *want_predicate,
                       struct intoto_subject **subjects, size_t *n, char **why)
{
	yajl_val tree;
	*subjects = NULL;
	*n = 0;
	if (parse_json(data, len, &tree, why) < 0)
		return -1;
	int rc = subjects_from_tree(tree, want_predicate, subjects, n, why);
	yajl_tree_free(tree);
	if (rc < 0) {
		image_intoto_subjects_free(*subjects, *n);
		*subjects = NULL;
		*n = 0;
	}
	return rc;
}

void image_intoto_subjects_free(struct intoto_subject *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].name);
		free(s[i].sha256);
	}
	free(s);
}
