/* TEE quotes (SGX ECDSA, TDX, the simulation's) as evidence carries them. */
#include "fuzz.h"
#include "quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quote q;
	rune_error_t err = NULL;

	memset(&q, 0, sizeof(q));
	if (attest_quote_parse(data, size, "fuzz", &q, &err) < 0)
		rune_error_release(&err);
	return 0;
}
