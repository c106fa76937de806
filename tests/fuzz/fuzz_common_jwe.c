/* JWE as KBS answers and ocicrypt layer keys carry it (general or flattened
 * JSON), opened with a fixed EC P-256 key; the first byte chooses between
 * that key and a JWK taken from the input itself (JWK parsing). */
#include <jansson.h>

#include "fuzz.h"
#include "jwe.h"

static const char JWK[] = "{\"crv\":\"P-256\",\"d\":\"RrU__14h4MO_3rC1x78gXt86MP16BfcGniUvVbPAXpA\",\"kty\":\"EC\","
                          "\"x\":\"RdwRHt6xJ6ualzlU08ydVkj1LfTNE2jl70itO1oDTZw\","
                          "\"y\":\"TmTQf3AzarUrvcDM7H4Ido0ehg5dNeAadRz8SkI2XVY\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *key;
	json_error_t je;

	if (key == NULL)
		key = json_loads(JWK, 0, &je);
	if (size < 1)
		return 0;
	json_t *in = json_loadb((const char *) data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
	if (in == NULL)
		return 0;
	/* {"jwe": …, "jwk": …} when the input brings its own key */
	json_t *jwe = data[0] & 1 ? json_object_get(in, "jwe") : in;
	const json_t *jwk = data[0] & 1 ? json_object_get(in, "jwk") : key;
	if (jwe && jwk) {
		size_t len = 0;
		const char *why = NULL;
		unsigned char *pt = rune_jwe_decrypt(jwe, jwk, 1 << 20, &len, &why);
		FUZZ_ASSERT(pt != NULL || why != NULL);
		if (pt)
			rune_jwe_free(pt, len);
	}
	json_decref(in);
	return 0;
}
