/* How to reach a registry, as skopeo and containers/image users configure
 * it: registries.conf (mirrors, insecure, blocked), auth.json / docker
 * config.json credentials, certs.d CA and client certificates. */
#ifndef RUNE_IMAGE_ACCESS_H
#define RUNE_IMAGE_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "image.h"
#include "ref.h"

/* One place to fetch a repository from: a mirror, or the registry itself. */
struct registry_endpoint {
	char *host;       /* host[:port] to connect to */
	char *repository; /* path there (a prefix may remap it) */
	bool insecure;    /* TLS unverified, plain HTTP allowed */
	bool mirror;
};

/* Where to look for ref, mirrors first; fails if registries.conf blocks it. */
int image_access_endpoints(const struct registry_access *a, const struct image_ref *ref, struct registry_endpoint **out,
                           size_t *n, rune_error_t *err);
/* Free endpoints. */
void image_access_endpoints_free(struct registry_endpoint *e, size_t n);
/* Credentials for a registry (as named in references, e.g. docker.io); both
 * NULL when none are configured. */
int image_access_credentials(const struct registry_access *a, const char *registry, char **user, char **pass,
                             rune_error_t *err);
/* TLS material for host: a PEM bundle of the system CAs plus the host's
 * certs.d CAs (NULL if there are none extra), and a client cert/key pair. */
int image_access_tls(const struct registry_access *a, const char *host, char **ca_pem, size_t *ca_len, char **cert,
                     char **key, rune_error_t *err);

#endif
