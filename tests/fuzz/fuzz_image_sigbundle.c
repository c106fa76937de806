/* Sigstore bundles (v0.1–v0.3), as cosign 3 attaches them. */
#include "fuzz.h"
#include "sigbundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig_bundle b = { 0 };
	char *why = NULL;

	if (image_bundle_parse((const char *) data, size, &b, &why) == 0)
		image_bundle_release(&b);
	free(why);
	return 0;
}
