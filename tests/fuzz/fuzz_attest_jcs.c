/* The RFC 8785 canonicaliser: whatever JSON it accepts, its output is
 * canonical — canonicalising it again changes nothing. */
#include "fuzz.h"
#include "jcs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL, *again = NULL;
	size_t n = 0, m = 0;
	rune_error_t err = NULL;

	if (attest_jcs_text((const char *) data, size, &out, &n, &err) == 0) {
		FUZZ_ASSERT(attest_jcs_text(out, n, &again, &m, &err) == 0);
		FUZZ_ASSERT(n == m && memcmp(out, again, n) == 0);
	}
	rune_error_release(&err);
	free(out);
	free(again);
	return 0;
}
