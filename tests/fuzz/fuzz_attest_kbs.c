/* What a KBS answers (Trustee protocol 0.4.0): the auth challenge (nonce,
 * extra-params as an object or a JSON string, the selected hash, the image
 * binding offer) and the attest answer (token, its exp read unverified). The
 * resource answer is a JWE: fuzz_common_jwe. */
#include <openssl/evp.h>

#include "attest_ctx.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *nonce = NULL, *token = NULL;
	const EVP_MD *md = NULL;
	bool binds = false;
	long exp = 0;
	rune_error_t err = NULL;

	if (attest_kbs_challenge((const char *) data, size, &nonce, &md, &binds, &err) == 0)
		FUZZ_ASSERT(nonce != NULL && md != NULL && strlen(nonce) <= 1024);
	rune_error_release(&err);
	free(nonce);
	if (attest_kbs_token((const char *) data, size, &token, &exp, &err) == 0)
		FUZZ_ASSERT(token != NULL);
	rune_error_release(&err);
	free(token);
	return 0;
}
