/* Unit tests: the decrypt stage against a vector from python3-cryptography
 * (an implementation independent of ours), and opening a layer through the
 * embedder's unwrap callback, as the in-enclave agent will with KBS keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decrypt.h"
#include "encoding.h"
#include "image_ctx.h"
#include "json.h"
#include "stream.h"
#include "util.h"

#include "check.h"

/* AES-256-CTR of PLAIN under key 0..31, nonce 100..115, and its HMAC-SHA256. */
static const char PLAIN[] = "hello ocicrypt, from python3-cryptography";
static const char CT_HEX[] = "fbbd7d4cd900d42e17eecdd296cbbcfcd39be46820a36cac1a19fa69b7ef93ebb0b5f536a4c8dd30db";
static const char HMAC_HEX[] = "e74d3609a0169529713ec606dd66452e8f0a8221b7259e6afb6b204a9cce8b42";

static int mem_fd(const void *data, size_t len)
{
	int fd = memfd_create("ct", 0);
	if (fd < 0 || write(fd, data, len) != (ssize_t) len || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

static char *decrypt(const unsigned char *ct, size_t n, const unsigned char *hmac, rune_error_t *err)
{
	unsigned char key[32], nonce[16];
	for (int i = 0; i < 32; i++)
		key[i] = i;
	for (int i = 0; i < 16; i++)
		nonce[i] = 100 + i;
	struct reader *r = image_reader_decrypt(image_reader_fd(mem_fd(ct, n)), key, nonce, hmac, "layer t");
	char *out = xcalloc(1, 256);
	size_t got, total = 0;
	int rc;
	do {
		rc = r->read(r, out + total, 7, &got, err); /* small reads: the counter carries across them */
		total += got;
	} while (rc == 0 && got > 0);
	image_reader_free(r);
	if (rc < 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void test_decrypt_stage(void)
{
	unsigned char *ct, *mac;
	size_t n, m;
	CHECK(rune_hex_decode(CT_HEX, &ct, &n) && rune_hex_decode(HMAC_HEX, &mac, &m) && m == 32);
	rune_error_t err = NULL;
	char *out = decrypt(ct, n, mac, &err);
	CHECK(out && strcmp(out, PLAIN) == 0);
	free(out);
	ct[3] ^= 1;
	CHECK(decrypt(ct, n, mac, &err) == NULL);
	CHECK(err && strstr(err->msg, "layer t: HMAC mismatch") != NULL);
	rune_error_release(&err);
	ct[3] ^= 1;
	mac[31] ^= 1;
	CHECK(decrypt(ct, n, mac, &err) == NULL);
	rune_error_release(&err);
	free(ct);
	free(mac);
}

/* The embedder's unwrap: "provider.kbs" blobs it knows; it sees what it gets. */
static int calls;
static int kbs_unwrap(const char *scheme, const void *wrapped, size_t len, char **opts, size_t *olen, void *arg,
                      rune_error_t *err)
{
	calls++;
	if (strcmp(scheme, "provider.kbs") != 0)
		return 0;
	if (len != 7 || memcmp(wrapped, "kek-ref", 7) != 0)
		return rune_error(err, 0, "unknown key reference");
	*opts = xstrdup(arg);
	*olen = strlen(arg);
	return 1;
}

static void test_unwrap_callback(void)
{
	char store[] = "/tmp/rune-unit-store-XXXXXX";
	CHECK(mkdtemp(store) != NULL);
	char *symkey = rune_base64_encode("0123456789abcdef0123456789abcdef", 32);
	char *nonce = rune_base64_encode("0123456789abcdef", 16);
	char *opts = xasprintf("{\"symkey\":\"%s\",\"digest\":\"sha256:%064d\",\"cipheroptions\":{\"nonce\":\"%s\"}}",
	                       symkey, 7, nonce);
	struct image_opts o = { .root = store, .unwrap_key = kbs_unwrap, .unwrap_key_arg = opts };
	struct image_ctx *c = NULL;
	rune_error_t err = NULL;
	CHECK(image_ctx_new(&o, &c, &err) == 0);
	char *hmac = rune_base64_encode("0123456789abcdef0123456789abcdef", 32);
	char *pub = xasprintf("{\"cipher\":\"AES_256_CTR_HMAC_SHA256\",\"hmac\":\"%s\",\"cipheroptions\":{}}", hmac);
	char *pub64 = rune_base64_encode(pub, strlen(pub));
	char *ref = rune_base64_encode("kek-ref", 7), *other = rune_base64_encode("other", 5);
	char *ann = xasprintf("{\"org.opencontainers.image.enc.keys.jwe\": \"%s\", "
	                      "\"org.opencontainers.image.enc.keys.provider.kbs\": \"%s,%s\", "
	                      "\"org.opencontainers.image.enc.pubopts\": \"%s\"}",
	                      other, other, ref, pub64);
	yajl_val tree = NULL;
	CHECK(rune_json_parse(ann, "annotations", &tree, &err) == 0);
	struct descriptor d = { .media_type = (char *) "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
		                .digest =
		                    (char *) "sha256:1111111111111111111111111111111111111111111111111111111111111111",
		                .annotations = tree };
	struct layer_secret s;
	CHECK(image_layer_open(c, &d, &s, &err) == 0);
	CHECK(memcmp(s.key, "0123456789abcdef0123456789abcdef", 32) == 0
	      && memcmp(s.nonce, "0123456789abcdef", 16) == 0);
	CHECK(s.opened_by && strstr(s.opened_by, "provider.kbs, the embedder's unwrap callback") != NULL);
	CHECK(calls == 3); /* jwe (not its), provider.kbs "other" (refused), provider.kbs "kek-ref" */
	image_layer_secret_wipe(&s);
	/* a recipient the callback cannot open, and nothing else: named */
	char *ann2 = xasprintf("{\"org.opencontainers.image.enc.keys.provider.kbs\": \"%s\", "
	                       "\"org.opencontainers.image.enc.pubopts\": \"%s\"}",
	                       other, pub64);
	yajl_val tree2 = NULL;
	CHECK(rune_json_parse(ann2, "annotations", &tree2, &err) == 0);
	d.annotations = tree2;
	CHECK(image_layer_open(c, &d, &s, &err) < 0);
	CHECK(err && strstr(err->msg, "the embedder's unwrap callback (provider.kbs): unknown key reference") != NULL);
	rune_error_release(&err);
	yajl_tree_free(tree);
	yajl_tree_free(tree2);
	image_ctx_free(c);
	char *rm = xasprintf("rm -rf %s", store);
	CHECK(system(rm) == 0);
	free(rm);
	free(symkey);
	free(nonce);
	free(opts);
	free(hmac);
	free(pub);
	free(pub64);
	free(ref);
	free(other);
	free(ann);
	free(ann2);
}

int main(void)
{
	test_decrypt_stage();
	test_unwrap_callback();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
