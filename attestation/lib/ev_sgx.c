/* SGX evidence: a DCAP quote (v3) from Gramine's /dev/attestation files or
 * from Occlum's /dev/sgx ioctls. Evidence for Trustee's sgx verifier is
 * {"quote": "<standard base64>"}. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cleanup.h"
#include "encoding.h"
#include "evidence.h"
#include "quote.h"
#include "util.h"

#define SGX_QUOTE_MAX              8192
#define SGXIOC_GET_DCAP_QUOTE_SIZE 0x80047307UL
#define SGXIOC_GEN_DCAP_QUOTE      0xC0187308UL

struct occlum_gen_quote {
	const unsigned char *report_data; /* 64 bytes */
	uint32_t *quote_len;
	unsigned char *quote;
};

static bool gramine(const char *root)
{
	cleanup_free char *t = attest_dev_attestation_type(root);
	return t && strcmp(t, "dcap") == 0;
}

static bool occlum(const char *root)
{
	cleanup_free char *dev = attest_path(root, "/dev/sgx");
	return getenv("OCCLUM") != NULL && access(dev, F_OK) == 0;
}

static bool sgx_detect(const char *root)
{
	return gramine(root) || occlum(root);
}

static int occlum_quote(const char *root, const unsigned char rd[64], unsigned char **out, size_t *len,
                        rune_error_t *err)
{
	cleanup_free char *dev = attest_path(root, "/dev/sgx");
	cleanup_close int fd = open(dev, O_RDONLY | O_CLOEXEC);
	uint32_t size = 0;
	if (fd < 0)
		return rune_error(err, errno, "sgx evidence (Occlum): open %s", dev);
	if (ioctl(fd, SGXIOC_GET_DCAP_QUOTE_SIZE, &size) < 0)
		return rune_error(err, errno, "sgx evidence (Occlum): ioctl SGXIOC_GET_DCAP_QUOTE_SIZE on %s", dev);
	if (size == 0 || size > SGX_QUOTE_MAX * 4)
		return rune_error(err, 0, "sgx evidence (Occlum): SGXIOC_GET_DCAP_QUOTE_SIZE says %u bytes", size);
	/* The length is not written back: the buffer is the size nr 7 gave. */
	unsigned char *q = xcalloc(1, size);
	uint32_t qlen = size;
	struct occlum_gen_quote arg = { .report_data = rd, .quote_len = &qlen, .quote = q };
	if (ioctl(fd, SGXIOC_GEN_DCAP_QUOTE, &arg) < 0) {
		int e = errno;
		free(q);
		return rune_error(err, e, "sgx evidence (Occlum): ioctl SGXIOC_GEN_DCAP_QUOTE on %s%s", dev,
		                  e == EIO ? " (DCAP not ready)" : "");
	}
	*out = q;
	*len = size;
	return 0;
}

static int sgx_evidence(const char *root, const unsigned char rd[64], size_t rd_len, json_t **primary,
                        rune_error_t *err)
{
	unsigned char *q = NULL;
	size_t n = 0;
	int rc;
	if (gramine(root))
		rc = attest_dev_attestation_quote(root, "sgx (Gramine)", rd, "quote", SGX_QUOTE_MAX, &q, &n, err);
	else if (occlum(root))
		rc = occlum_quote(root, rd, &q, &n, err);
	else
		return rune_error(err, 0,
		                  "sgx evidence: neither Gramine's %s%s (attestation_type \"dcap\") nor "
		                  "Occlum's %s%s (with $OCCLUM set) is here",
		                  root ? root : "", "/dev/attestation", root ? root : "", "/dev/sgx");
	if (rc < 0)
		return -1;
	cleanup_free char *b64 = NULL;
	if (attest_quote_take_b64(q, n, QUOTE_SGX, "sgx evidence: the quote", &b64, err) < 0)
		return -1;
	*primary = json_pack("{s:s}", "quote", b64);
	return 0;
}

const struct evidence_provider attest_provider_sgx = {
	.name = "sgx", .kbs_tee = "sgx", .detect = sgx_detect, .evidence = sgx_evidence
};
