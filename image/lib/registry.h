/* The OCI distribution API client (libcurl): /v2/ ping, manifests, blobs;
 * anonymous, Basic and Bearer auth; mirrors; TLS or plain HTTP for insecure
 * registries; retries with backoff; blobs resumed with Range requests. */
#ifndef RUNE_IMAGE_REGISTRY_H
#define RUNE_IMAGE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "error.h"
#include "ref.h"

struct registry_client;

/* Where a blob's bytes go. write may fail (the transfer stops with its error);
 * restart is called when a resumed download must start over from byte 0. */
struct blob_sink {
	int (*write)(void *ctx, const void *buf, size_t n, rune_error_t *err);
	void (*restart)(void *ctx);
	void *ctx;
};

struct http_manifest {
	char *body;
	size_t len;
	char *media_type; /* Content-Type */
	char *digest;     /* Docker-Content-Digest, if sent */
};

/* A client for ref's repository (endpoints, credentials, TLS from access). */
int image_registry_client_new(const struct registry_access *a, const struct image_ref *ref,
                              struct registry_client **out, rune_error_t *err);
/* Free it. */
void image_registry_client_free(struct registry_client *c);
/* Check the registry answers /v2/ (with auth if it asks). */
int image_registry_ping(struct registry_client *c, rune_error_t *err);
/* Did /v2/ (the ping) advertise the signature extension
 * (X-Registry-Supports-Signatures: 1)? */
bool image_registry_supports_signatures(struct registry_client *c);
/* GET a small document: /v2/<repository>/<kind>/<reference> (or
 * /extensions/v2/... for the signature extension), at most max bytes. A 404
 * fails with (*err)->status ENOENT, so callers can tell "not there". */
int image_registry_get_doc(struct registry_client *c, bool extension, const char *kind, const char *reference,
                           const char *accept, size_t max, struct http_manifest *out, rune_error_t *err);
/* GET a manifest by tag or digest, at most max bytes. */
int image_registry_get_manifest(struct registry_client *c, const char *reference, size_t max, struct http_manifest *out,
                                rune_error_t *err);
/* Release a manifest response. */
void image_http_manifest_release(struct http_manifest *m);
/* GET a blob into sink (which checks size and digest). Safe from several threads at once. */
int image_registry_get_blob(struct registry_client *c, const char *digest, struct blob_sink *sink, rune_error_t *err);
/* GET a blob of at most max bytes into memory, its digest checked. */
int image_registry_get_small_blob(struct registry_client *c, const char *digest, size_t max, char **out, size_t *len,
                                  rune_error_t *err);
/* GET any http(s) URL (lookaside signature storage) into memory, at most max
 * bytes, TLS verified against the system CAs. 0 with *status the HTTP status
 * (*body set only for 200), -1 when no answer came. */
int image_http_get(const char *url, size_t max, char **body, size_t *len, long *status, rune_error_t *err);
/* How many retries happened (tests and progress). */
unsigned image_registry_retries(struct registry_client *c);
/* Initialise libcurl once per process. */
void image_registry_global_init(void);

#endif
