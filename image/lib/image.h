/* libruneimage: pull OCI images from registries into a content store and
 * unpack them into bundles, streaming, verified at every step, safe against
 * hostile images. What runs inside the TEE to fetch a workload; also the
 * engine of the `rune-image` CLI. */
#ifndef RUNE_IMAGE_H
#define RUNE_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "error.h"

struct image_ctx;

/* What the user said on the command line (NULL / -1: use the defaults). */
struct registry_access {
	const char *creds;           /* "user:password" for every registry */
	const char *authfile;        /* else REGISTRY_AUTH_FILE, XDG, ~/.docker/config.json */
	const char *cert_dir;        /* certificates for every registry, as skopeo's --cert-dir */
	const char *registries_conf; /* else CONTAINERS_REGISTRIES_CONF, /etc/containers/registries.conf */
	int tls_verify;              /* -1: as configured, 0: off (and plain HTTP allowed), 1: on */
	/* Seconds a registry may stall (connect, answer, or send under 1 KiB/s)
	 * before the request is abandoned and retried; 0: 30. With the retries
	 * this bounds how long a silent or drip-feeding registry holds a pull. */
	int timeout;
};

/* What decides whether an image may be used: containers-policy.json and
 * registries.d (where signatures are), as skopeo reads them. Paths, or the
 * content itself (inside a TEE both arrive from the KBS). */
struct image_trust {
	const char *policy;      /* --policy FILE; names policy_data in messages when that is set */
	const char *policy_data; /* policy.json content, instead of a file */
	size_t policy_len;
	bool insecure_policy;          /* no policy at all: accept anything */
	const char *registries_d;      /* --registries.d DIR, else ~/.config/containers/registries.d, else /etc/... */
	const char *registries_d_data; /* registries.d YAML content (one file's worth), instead of a directory */
	size_t registries_d_len;
	/* Reads a file the policy names (keyPath, caPath, rekorPublicKeyPath…),
	 * at most max bytes, into malloc'ed *data; NULL reads the local file
	 * system. Inside a TEE this is where kbs:/// paths resolve. */
	int (*read_file)(const char *path, size_t max, char **data, size_t *len, void *arg, rune_error_t *err);
	void *read_file_arg;
};

/* A key to decrypt layers with, as skopeo's --decryption-key takes them: a
 * private key (PEM or DER: PKCS#1, PKCS#8, SEC1; encrypted PEM with its
 * password; or a JWK), an X.509 certificate that pairs with a private key
 * (PKCS7), or a GPG secret key export (PGP); or "provider:NAME[:PARAMS]", a
 * key provider of OCICRYPT_KEYPROVIDER_CONFIG. */
struct image_decryption_key {
	const char *spec; /* "FILE[:PASSWORD]" or "provider:NAME[:PARAMS]"; names data in messages */
	const void *data; /* the key itself instead of a file (inside a TEE) */
	size_t len;
	const char *password; /* for data */
};

/* Unwraps a layer key no key above opens (the embedder's own, e.g. fetched from
 * a KBS): scheme is "jwe", "pkcs7", "pgp" or "provider.NAME", wrapped one
 * recipient's blob from the layer's annotation. Returns 1 with *optsdata
 * (malloc'ed ocicrypt options JSON) when it opened it, 0 when it is not the
 * embedder's, -1 with err on failure. */
typedef int (*image_unwrap_fn)(const char *scheme, const void *wrapped, size_t len, char **optsdata, size_t *optslen,
                               void *arg, rune_error_t *err);

/* What one signature came to under one requirement. */
struct image_sig_check {
	char *origin; /* where it was found: a lookaside URL, "tag sha256-….sig layer 1", "referrer sha256:…" */
	bool accepted;
	char *detail; /* what accepted it, or why not */
};

/* What one policy requirement came to. */
struct image_req_check {
	char *requirement; /* "signedBy (GPGKeys keyPath /etc/pki/app.gpg)" */
	bool accepted;
	char *detail; /* the reason, when no signature is involved or none was found */
	struct image_sig_check *sigs;
	size_t n_sigs;
};

/* The policy's verdict on an image, requirement by requirement. */
struct image_verdict {
	char *reference, *digest, *manifest_digest;
	char *policy; /* the file, or "--insecure-policy" */
	char *scope;  /* the requirements that applied: transports.docker["…"] or default */
	bool accepted;
	struct image_req_check *reqs;
	size_t n_reqs;
};

/* Progress of one blob, for display. */
struct image_progress {
	const char *digest;
	int64_t done, total;
	enum { PROGRESS_WAITING, PROGRESS_DOWNLOADING, PROGRESS_CACHED, PROGRESS_DONE, PROGRESS_UNPACKED } state;
};

struct image_opts {
	const char *root;     /* the store (default /var/lib/rune/images) */
	const char *platform; /* "os/arch[/variant]", default this host */
	int parallel;         /* layers downloaded at once (default 3) */
	struct registry_access access;
	struct image_trust trust;
	const struct image_decryption_key *decryption_keys;
	size_t n_decryption_keys;
	image_unwrap_fn unwrap_key; /* may be NULL */
	void *unwrap_key_arg;
	/* Called once the policy has accepted the image (its reference and the
	 * platform manifest's digest), before its config, any layer or any layer
	 * key is fetched; a failure stops the pull. The in-enclave agent binds
	 * the verified digest into its evidence here. May be NULL. */
	int (*on_verified)(const char *reference, const char *manifest_digest, void *arg, rune_error_t *err);
	void *on_verified_arg;
	/* Called (from several threads, serialised) as blobs progress; may be NULL. */
	void (*progress)(const struct image_progress *p, void *data);
	void *progress_data;
};

/* What a pull or unpack did. */
struct image_result {
	char *reference;       /* normalised */
	char *digest;          /* of what the reference names (manifest or index) */
	char *manifest_digest; /* of the platform's manifest */
	unsigned layers, downloaded, retries;
	uint64_t bytes; /* downloaded */
};

/* Open the store and remember the options. */
int image_ctx_new(const struct image_opts *o, struct image_ctx **out, rune_error_t *err);
void image_ctx_free(struct image_ctx *c);
/* Pull ref into the store (blobs already there are not fetched again). The
 * policy decides, before any config or layer is fetched; a refusal stores
 * nothing, and its error names the scope and why each requirement failed. */
int image_pull(struct image_ctx *c, const char *ref, struct image_result *res, rune_error_t *err);
/* Evaluate the policy for ref without fetching its config or layers: the
 * manifest (and the platform's, for an index) and the signatures the policy
 * asks for. 0 when the policy could be evaluated (v->accepted says how),
 * -1 when it could not (no policy, registry unreachable…). */
int image_verify(struct image_ctx *c, const char *ref, struct image_verdict *v, rune_error_t *err);
/* Free a verdict's contents. */
void image_verdict_release(struct image_verdict *v);
/* Unpack ref (pulled first unless the store has it) into bundle: a rootfs and
 * a config.json (layers: one directory per layer under bundle/layers for
 * overlayfs, instead of a flattened rootfs). */
int image_unpack(struct image_ctx *c, const char *ref, const char *bundle, bool layers, struct image_result *res,
                 rune_error_t *err);
/* The stored manifest (and config) of ref as JSON into g. */
int image_inspect(struct image_ctx *c, const char *ref, bool config_only, yajl_gen g, rune_error_t *err);
/* All references in the store as a JSON array into g. */
int image_list(struct image_ctx *c, yajl_gen g, rune_error_t *err);
/* Forget a reference (its blobs go at the next gc). */
int image_remove(struct image_ctx *c, const char *ref, rune_error_t *err);
/* Remove unreferenced blobs; the store must not be in use (waits for pulls). */
int image_gc(const struct image_opts *o, size_t *removed, uint64_t *bytes, rune_error_t *err);
/* What `rune-image fsck` found (image_fsck). */
struct image_fsck {
	size_t blobs, refs, unreferenced; /* unreferenced: blobs gc would remove */
	uint64_t bytes;
	char **problems; /* NULL-terminated: a blob whose content is not its digest, a
	                    reference missing a blob it needs, an unreadable refs.json */
	char **debris;   /* abandoned ingest files (gc removes them) */
};
/* Check the store: every blob against its digest, every reference down to
 * its layers. Waits for pulls, as gc. 0 when it could look (r->problems says
 * whether the store is consistent), -1 when it could not. */
int image_fsck(const struct image_opts *o, struct image_fsck *r, rune_error_t *err);
void image_fsck_release(struct image_fsck *r);
/* Free a result's strings. */
void image_result_release(struct image_result *r);

#endif
