/* Image references (as annotations and the CRI hand them over): a parsed
 * reference prints as a string that parses to the same reference. */
#include "fuzz.h"
#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct image_ref r = { 0 }, again = { 0 };
	rune_error_t err = NULL;

	if (image_ref_parse(s, &r, &err) == 0) {
		char *str = image_ref_string(&r);
		FUZZ_ASSERT(image_ref_parse(str, &again, &err) == 0);
		char *str2 = image_ref_string(&again);
		FUZZ_ASSERT(strcmp(str, str2) == 0);
		free(str);
		free(str2);
		image_ref_release(&again);
		image_ref_release(&r);
	}
	rune_error_release(&err);
	free(s);
	return 0;
}
