/* Signature payloads: simple-signing and cosign payloads (the first byte
 * picks which type is wanted) and in-toto statements from DSSE envelopes. */
#include "fuzz.h"
#include "sigpayload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static const char *const types[] = { "atomic container signature", "cosign container image signature" };
	struct sig_payload p = { 0 };
	struct intoto_subject *s = NULL;
	size_t n = 0;
	char *why = NULL;

	if (image_sig_payload_parse(data + 1, size - 1, types[data[0] & 1], &p, &why) == 0)
		image_sig_payload_release(&p);
	free(why);
	why = NULL;
	if (image_intoto_parse(data + 1, size - 1, "https://sigstore.dev/cosign/sign/v1", &s, &n, &why) == 0)
		image_intoto_subjects_free(s, n);
	free(why);
	return 0;
}
