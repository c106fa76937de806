/* Where an image's signatures are found, fetched untrusted and bounded:
 * simple signatures from the registry's signature extension or lookaside
 * storage (file://, http(s)://, signature-1, -2, … until one is missing);
 * cosign signatures from the sha256-<hex>.sig tag; Sigstore bundles through
 * the OCI 1.1 referrers API, else the sha256-<hex> referrers tag. */
#ifndef RUNE_IMAGE_SIGSOURCE_H
#define RUNE_IMAGE_SIGSOURCE_H

#include <stddef.h>

#include "error.h"
#include "ref.h"
#include "registries_d.h"
#include "registry.h"

#define SIGS_MAX     64        /* signatures read from one source for one digest */
#define SIG_MAX_SIZE (4 << 20) /* bytes of one signature, payload or bundle (containers/image's limit) */

#define MT_COSIGN_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"

enum sig_kind { SIG_SIMPLE, SIG_COSIGN, SIG_BUNDLE };

struct untrusted_sig {
	enum sig_kind kind;
	char *origin;        /* where it was found: a URL, "tag sha256-….sig layer 2", "referrer sha256:…" */
	char *filed_under;   /* the manifest digest it was found for */
	unsigned char *data; /* simple: the OpenPGP message; cosign: the payload; bundle: the bundle JSON */
	size_t len;
	/* cosign's layer annotations */
	char *cosign_signature, *cosign_certificate, *cosign_chain, *cosign_set;
};

struct sig_list {
	struct untrusted_sig *v;
	size_t n;
	char **looked; /* where nothing was found ("no signature at …"), for messages */
};

/* Simple (GPG) signatures of digest: through the extension when the registry
 * offered it, else lookaside storage (st->lookaside). */
int image_sigs_simple(struct registry_client *client, const struct image_ref *ref, const struct sig_storage *st,
                      const char *digest, struct sig_list *out, rune_error_t *err);
/* cosign signatures of digest (the .sig tag). */
int image_sigs_cosign(struct registry_client *client, const char *digest, struct sig_list *out, rune_error_t *err);
/* Sigstore bundles whose subject is digest. */
int image_sigs_bundles(struct registry_client *client, const char *digest, struct sig_list *out, rune_error_t *err);
void image_sig_list_release(struct sig_list *l);

#endif
