/* The CRI annotations the shim reads from a task's config.json to find its
 * pod (io.containerd.runc.v2.group, io.kubernetes.cri.sandbox-id); those
 * rune reads (enclave.*, the CRI image name, Kata's init-data) are in
 * fuzz_rune_config. The key names a socket through a hash only. */
#include "fuzz.h"
#include "shim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	char *key = shim_group_key(text, "task");
	uint8_t md[32];

	FUZZ_ASSERT(key != NULL && key[0] != '\0');
	shim_sha256(key, strlen(key), md);
	free(key);
	free(text);
	return 0;
}
