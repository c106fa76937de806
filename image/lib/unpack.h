/* Applying a layer (an uncompressed tar stream) to a directory, safely: no
 * entry lands outside it — absolute names and ".." are refused, nothing is
 * written through a symlink, hardlinks must stay inside — and whiteouts are
 * applied (flattened rootfs) or recorded as overlayfs expects (per layer). */
#ifndef RUNE_IMAGE_UNPACK_H
#define RUNE_IMAGE_UNPACK_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "stream.h"

enum unpack_mode {
	UNPACK_FLAT,   /* apply onto the layers below: whiteouts delete */
	UNPACK_OVERLAY /* a layer directory of its own: whiteouts become 0:0 char devices,
	                  opaque directories get trusted.overlay.opaque=y */
};

/* Apply the tar read from r to dir (an absolute path without symlinks).
 * lowers (OVERLAY only, top first) are searched for hardlink targets from
 * layers below. what names the layer in errors. The stream is read to its
 * end, so digest stages under r see every byte. */
int image_unpack_layer(struct reader *r, const char *dir, enum unpack_mode mode, char *const *lowers, const char *what,
                       rune_error_t *err);

#endif
