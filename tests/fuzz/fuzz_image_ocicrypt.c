/* ocicrypt's layer annotations — org.opencontainers.image.enc.keys.{jwe,
 * pkcs7,pgp,provider.*} and .pubopts — on each layer of a manifest, opened as
 * the puller opens them before any layer is fetched: with an EC P-256 JWK as
 * the --decryption-key. The input is the manifest. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decrypt.h"
#include "fuzz.h"
#include "image.h"
#include "manifest.h"

static const char JWK[] = "{\"crv\":\"P-256\",\"d\":\"RrU__14h4MO_3rC1x78gXt86MP16BfcGniUvVbPAXpA\",\"kty\":\"EC\","
                          "\"x\":\"RdwRHt6xJ6ualzlU08ydVkj1LfTNE2jl70itO1oDTZw\","
                          "\"y\":\"TmTQf3AzarUrvcDM7H4Ido0ehg5dNeAadRz8SkI2XVY\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct image_ctx *ctx;
	static char root[512];
	static struct image_decryption_key key = { .spec = "fuzz.jwk", .data = JWK, .len = sizeof(JWK) - 1 };
	rune_error_t err = NULL;

	if (ctx == NULL) {
		snprintf(root, sizeof(root), "%s/rune-fuzz-store.%d", fuzz_tmpdir(), (int) getpid());
		struct image_opts o = { .root = root, .decryption_keys = &key, .n_decryption_keys = 1 };
		o.access.tls_verify = -1;
		FUZZ_ASSERT(image_ctx_new(&o, &ctx, &err) == 0);
	}
	char *body = fuzz_cstr(data, size);
	struct manifest m = { 0 };
	if (image_manifest_parse(body, NULL, "fuzz", &m, &err) == 0) {
		for (size_t i = 0; i < m.n_layers; i++) {
			struct layer_secret s = { 0 };
			if (image_layer_open(ctx, &m.layers[i], &s, &err) < 0)
				rune_error_release(&err);
			image_layer_secret_wipe(&s);
		}
		image_manifest_release(&m);
	}
	rune_error_release(&err);
	free(body);
	return 0;
}
