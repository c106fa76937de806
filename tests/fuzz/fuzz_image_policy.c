/* containers-policy.json, read strictly; every key file it names reads as
 * the same P-256 public key, so parsing gets past keys to what follows. */
#include "fuzz.h"
#include "image.h"
#include "policy.h"
#include "util.h"

static const char KEY[] = "-----BEGIN PUBLIC KEY-----\n"
                          "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEy64kmWMhQULDkNKldVQ8/A2Tergx\n"
                          "J+wcloAZs+9GtpXA+R4Tst83xKI04PSkxk6U2dyR18tu4yxiNIeyJSd07Q==\n"
                          "-----END PUBLIC KEY-----\n";

static int read_key(const char *path, size_t max, char **data, size_t *len, void *arg, rune_error_t *err)
{
	(void) path, (void) max, (void) arg, (void) err;
	*data = xstrdup(KEY);
	*len = sizeof(KEY) - 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_trust t = { .read_file = read_key };
	struct policy *p = NULL;
	rune_error_t err = NULL;

	if (image_policy_parse((const char *) data, size, "fuzz", &t, &p, &err) == 0)
		image_policy_free(p);
	else
		FUZZ_ASSERT(err != NULL);
	rune_error_release(&err);
	return 0;
}
