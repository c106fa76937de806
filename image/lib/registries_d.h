/* registries.d: where an image's signatures are kept (lookaside storage) and
 * whether to read sigstore attachments, as containers/image configures it:
 * every *.yaml of one directory merged, a scope defined twice an error. */
#ifndef RUNE_IMAGE_REGISTRIES_D_H
#define RUNE_IMAGE_REGISTRIES_D_H

#include "error.h"
#include "image.h"
#include "ref.h"

struct registries_d;

/* What applies to one image: each setting from the most specific scope that
 * sets it, else default-docker. */
struct sig_storage {
	char *lookaside;      /* base URL (file://, http://, https://) or NULL */
	char *lookaside_from; /* "file.yaml: docker[\"scope\"]" for messages */
	int use_attachments;  /* -1 unset, 0, 1 */
	char *attachments_from;
};

/* Load the directory (or in-memory content) the trust options name. A
 * missing default directory is an empty configuration. */
int image_registries_d_load(const struct image_trust *t, struct registries_d **out, rune_error_t *err);
/* Parse one file's content (name for messages) into r (NULL: a new one). */
int image_registries_d_parse(struct registries_d **r, const char *data, size_t len, const char *name,
                             rune_error_t *err);
void image_registries_d_free(struct registries_d *r);
/* The storage settings for ref. */
void image_registries_d_for(const struct registries_d *r, const struct image_ref *ref, struct sig_storage *out);
void image_sig_storage_release(struct sig_storage *s);

#endif
