/* An image's config blob (entrypoint, env, user, diff_ids, …). */
#include "fuzz.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_cstr(data, size);
	struct image_config c = { 0 };
	rune_error_t err = NULL;

	if (image_config_parse(body, "fuzz", &c, &err) == 0)
		image_config_release(&c);
	rune_error_release(&err);
	free(body);
	return 0;
}
