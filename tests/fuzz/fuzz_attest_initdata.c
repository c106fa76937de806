/* Init-data: the TOML subset (attest_toml_parse) and the init-data document
 * on it (version, algorithm, data), with its digest. */
#include <jansson.h>

#include "fuzz.h"
#include "initdata.h"
#include "toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = NULL;
	rune_error_t err = NULL;
	unsigned char md[64];
	size_t md_len = 0;
	const char *alg = NULL;

	if (attest_toml_parse((const char *) data, size, "fuzz", &v, &err) == 0)
		json_decref(v);
	rune_error_release(&err);
	v = NULL;
	if (attest_initdata_parse((const char *) data, size, &v, &err) == 0)
		json_decref(v);
	rune_error_release(&err);
	if (attest_initdata_digest((const char *) data, size, md, &md_len, &alg, &err) == 0)
		FUZZ_ASSERT(md_len == 32 || md_len == 48 || md_len == 64);
	rune_error_release(&err);
	return 0;
}
