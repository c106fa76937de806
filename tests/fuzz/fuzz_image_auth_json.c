/* auth.json / docker config.json: the credentials for a registry. */
#include <stdio.h>
#include <unistd.h>

#include "access.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[512];
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "%s/rune-fuzz-auth.%d.json", fuzz_tmpdir(), (int) getpid());
	FILE *f = fopen(path, "w");
	FUZZ_ASSERT(f != NULL);
	fwrite(data, 1, size, f);
	fclose(f);
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
