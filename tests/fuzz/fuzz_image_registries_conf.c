/* registries.conf (mirrors, prefixes, insecure, blocked) as the puller reads
 * it, then where a few references would be fetched from. */
#include <stdio.h>
#include <unistd.h>

#include "access.h"
#include "fuzz.h"
#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const refs[] = {
		"docker.io/library/busybox:1",
		"example.com:5000/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"localhost/x",
	};
	const char *path = fuzz_input_file("registries.conf", data, size);
	struct registry_access a = { .registries_conf = path, .tls_verify = -1 };
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		struct image_ref r = { 0 };
		struct registry_endpoint *e = NULL;
		size_t n = 0;
		rune_error_t err = NULL;
		FUZZ_ASSERT(image_ref_parse(refs[i], &r, &err) == 0);
		if (image_access_endpoints(&a, &r, &e, &n, &err) == 0)
			image_access_endpoints_free(e, n);
		rune_error_release(&err);
		image_ref_release(&r);
	}
	return 0;
}
