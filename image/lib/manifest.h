/* Image manifests and configs: OCI manifest and index, Docker schema2
 * manifest and manifest list (schema1 refused); every descriptor checked;
 * platform selection. */
#ifndef RUNE_IMAGE_MANIFEST_H
#define RUNE_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "error.h"

#define MANIFEST_MAX (4 << 20) /* bytes of a manifest or index read into memory */
#define CONFIG_MAX   (8 << 20) /* bytes of an image config */

#define MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"

struct platform {
	char *os, *architecture, *variant;
};

struct descriptor {
	char *media_type, *digest;
	int64_t size;
	struct platform platform; /* index entries */
	yajl_val annotations;     /* points into the manifest's tree */
};

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };
enum compression { COMPRESSION_NONE, COMPRESSION_GZIP, COMPRESSION_ZSTD };

struct manifest {
	enum manifest_kind kind;
	char *media_type;
	struct descriptor config;
	struct descriptor *layers, *manifests;
	size_t n_layers, n_manifests;
	yajl_val tree;
};

struct image_config {
	char **entrypoint, **cmd, **env;
	char *working_dir, *user, *stop_signal, *os, *architecture, *variant, *author, *created;
	yajl_val labels, exposed_ports; /* point into tree */
	char **diff_ids;
	size_t n_diff_ids;
	yajl_val tree;
};

/* Parse a manifest or index; content_type (may be NULL) is the registry's word
 * for it, where names it in errors. */
int image_manifest_parse(const char *body, const char *content_type, const char *where, struct manifest *m,
                         rune_error_t *err);
/* Free a manifest. */
void image_manifest_release(struct manifest *m);
/* The platform this host runs (linux/amd64, linux/arm64/v8...). */
void image_platform_host(struct platform *p);
/* Parse "os/arch[/variant]". */
int image_platform_parse(const char *s, struct platform *p, rune_error_t *err);
/* "os/arch[/variant]". */
char *image_platform_string(const struct platform *p);
/* Free a platform's strings. */
void image_platform_release(struct platform *p);
/* The index entry for want; the error lists what the index offers. */
int image_manifest_select(const struct manifest *index, const struct platform *want, const struct descriptor **out,
                          const char *where, rune_error_t *err);
/* How a layer is compressed, and whether it is encrypted (ocicrypt's
 * "+encrypted" types), from its media type; unknown types are refused with a
 * message naming the digest. */
int image_layer_compression(const struct descriptor *d, enum compression *c, bool *encrypted, rune_error_t *err);
/* Parse an image config. */
int image_config_parse(const char *body, const char *where, struct image_config *c, rune_error_t *err);
/* Free a config. */
void image_config_release(struct image_config *c);

#endif
