/* config.json as rune reads it (librune_config_parse): the whole OCI config
 * model, mounts, resources, seccomp, the enclave settings and the CRI
 * annotations rune reads, from hostile text. */
#include "error.h"
#include "fuzz.h"
#include "oci_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct rune_config *c = NULL;
	rune_error_t err = NULL;

	if (librune_config_parse(text, "fuzz", &c, &err) == 0)
		librune_config_free(c);
	else
		FUZZ_ASSERT(err != NULL && err->msg != NULL);
	rune_error_release(&err);
	free(text);
	return 0;
}
