/* ocicrypt key providers (OCICRYPT_KEYPROVIDER_CONFIG): the "cmd" protocol,
 * one JSON request on the provider's stdin and one answer on its stdout,
 * with a time limit and a bound on the answer; "grpc" providers are refused
 * with a clear message. */
#ifndef RUNE_IMAGE_KEYPROVIDER_H
#define RUNE_IMAGE_KEYPROVIDER_H

#include <stddef.h>

#include "error.h"

struct keyprovider_conf;

/* The configuration OCICRYPT_KEYPROVIDER_CONFIG names (*out NULL when unset). */
int image_keyprovider_load(struct keyprovider_conf **out, rune_error_t *err);
void image_keyprovider_free(struct keyprovider_conf *c);
/* Ask provider name to unwrap an annotation (its decoded bytes); params, if
 * any, go in the request's Parameters. 1 with *optsdata (malloc'ed), 0 when
 * no such provider is configured, -1 on failure. */
int image_keyprovider_unwrap(const struct keyprovider_conf *c, const char *name, const char *params,
                             const unsigned char *annotation, size_t len, char **optsdata, size_t *optslen,
                             rune_error_t *err);

#endif
