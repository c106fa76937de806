/* auth.json / docker config.json: the credentials for a registry. */
#include <stdio.h>
#include <unistd.h>

#include "access.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file("auth.json", data, size);
	struct registry_access a = { .authfile = path, .registries_conf = "/dev/null", .tls_verify = -1 };
	static const char *const regs[] = { "docker.io", "example.com:5000", "localhost" };
	for (size_t i = 0; i < 3; i++) {
		char *user = NULL, *pass = NULL;
		rune_error_t err = NULL;
		if (image_access_credentials(&a, regs[i], &user, &pass, &err) < 0)
			rune_error_release(&err);
		free(user);
		free(pass);
	}
	return 0;
}
