/* An OCI bundle's config.json made from an image's config (bundle.c). */
#ifndef RUNE_IMAGE_BUNDLE_H
#define RUNE_IMAGE_BUNDLE_H

#include "error.h"
#include "resolve.h"

/* Write bundle/config.json for the image (rootfs is bundle/rootfs). */
int image_bundle_write_config(const struct resolved *r, const char *bundle, const char *rootfs, rune_error_t *err);

#endif
