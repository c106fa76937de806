/* Image references as docker and containers/image write them:
 * [host[:port]/]path[:tag][@algo:hex], normalised ("busybox" is
 * docker.io/library/busybox:latest). */
#ifndef RUNE_IMAGE_REF_H
#define RUNE_IMAGE_REF_H

#include "error.h"

struct image_ref {
	char *registry;   /* "docker.io", "localhost:5000" */
	char *repository; /* "library/busybox" */
	char *tag;        /* NULL when only a digest was given */
	char *digest;     /* "sha256:..." or NULL */
};

/* Parse and normalise; the error names the reference and what is wrong. */
int image_ref_parse(const char *s, struct image_ref *ref, rune_error_t *err);
/* Parse and normalise without adding ":latest" to a name-only reference
 * (signed identities, policy scopes: "name only" means something there). */
int image_ref_parse_named(const char *s, struct image_ref *ref, rune_error_t *err);
/* "registry/repository[:tag][@digest]". */
char *image_ref_string(const struct image_ref *ref);
/* "registry/repository". */
char *image_ref_repo(const struct image_ref *ref);
/* The host to talk to: docker.io is served by registry-1.docker.io. */
const char *image_ref_api_host(const struct image_ref *ref);
/* Release the strings. */
void image_ref_release(struct image_ref *ref);
/* Check "algo:hex" (sha256: 64 hex digits, sha512: 128), lowercase. */
int image_digest_validate(const char *digest, const char *where, rune_error_t *err);

#endif
