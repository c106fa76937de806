/* OCI / Docker manifests and indexes as a registry serves them, then what
 * the puller does with one: each layer's media type, and the platform choice
 * of an index. The first byte picks the Content-Type the registry claimed. */
#include "fuzz.h"
#include "manifest.h"

static const char *const TYPES[] = {
	NULL,
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"text/plain",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *body = fuzz_cstr(data + 1, size - 1);
	struct manifest m = { 0 };
	rune_error_t err = NULL;

	if (image_manifest_parse(body, TYPES[data[0] % (sizeof(TYPES) / sizeof(TYPES[0]))], "fuzz", &m, &err) == 0) {
		for (size_t i = 0; i < m.n_layers; i++) {
			enum compression c;
			bool enc;
			if (image_layer_compression(&m.layers[i], &c, &enc, &err) < 0)
				rune_error_release(&err);
		}
		struct platform p = { 0 };
		const struct descriptor *d = NULL;
		image_platform_host(&p);
		if (m.n_manifests > 0 && image_manifest_select(&m, &p, &d, "fuzz", &err) < 0)
			rune_error_release(&err);
		image_platform_release(&p);
		image_manifest_release(&m);
	}
	rune_error_release(&err);
	free(body);
	return 0;
}
