/* A registries.d YAML file (lookaside and sigstore attachment settings). */
#include "fuzz.h"
#include "registries_d.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registries_d *r = NULL;
	rune_error_t err = NULL;

	if (image_registries_d_parse(&r, (const char *) data, size, "fuzz.yaml", &err) < 0)
		rune_error_release(&err);
	image_registries_d_free(r);
	return 0;
}
