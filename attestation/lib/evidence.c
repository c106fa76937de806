/* The provider table, Gramine's /dev/attestation files (shared by the sgx and
 * sim providers), and the two providers without hardware: `sim` and
 * `sample`. */
#include "evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "cleanup.h"
#include "encoding.h"
#include "util.h"

#define DEV_ATTESTATION "/dev/attestation"

char *attest_path(const char *root, const char *path)
{
	return xasprintf("%s%s", root ? root : "", path);
}

char *attest_dev_attestation_type(const char *root)
{
	cleanup_free char *p = attest_path(root, DEV_ATTESTATION "/attestation_type");
	char *s = NULL;
	size_t n = 0;
	cleanup_error rune_error_t e = NULL;
	if (rune_read_file(p, 64, &s, &n, &e) < 0)
		return NULL;
	/* Gramine writes no newline; tolerate one from hand-made trees. */
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\0'))
		s[--n] = '\0';
	return s;
}

int attest_dev_attestation_quote(const char *root, const char *provider, const unsigned char report_data[64],
                                 const char *file, size_t max, unsigned char **out, size_t *len, rune_error_t *err)
{
	cleanup_free char *rd = attest_path(root, DEV_ATTESTATION "/user_report_data");
	cleanup_free char *qp = xasprintf("%s%s/%s", root ? root : "", DEV_ATTESTATION, file);
	cleanup_close int w = open(rd, O_WRONLY | O_CLOEXEC);
	if (w < 0)
		return rune_error(err, errno, "%s evidence: open %s", provider, rd);
	/* One write: each write() replaces all 64 bytes. */
	ssize_t n = write(w, report_data, 64);
	if (n != 64)
		return rune_error(err, n < 0 ? errno : EIO, "%s evidence: write 64 bytes to %s", provider, rd);
	if (close(take_fd(&w)) < 0)
		return rune_error(err, errno, "%s evidence: close %s", provider, rd);
	if (rune_read_file(qp, max, (char **) out, len, err) < 0)
		return rune_error_wrap(err, "%s evidence", provider);
	if (*len == 0) {
		free(*out);
		return rune_error(err, 0, "%s evidence: %s is empty", provider, qp);
	}
	return 0;
}

/* ---- sim: the simulation enclave's /dev/attestation ---- */

static bool sim_detect(const char *root)
{
	cleanup_free char *t = attest_dev_attestation_type(root);
	return t && strcmp(t, SIM_ATTESTATION_TYPE) == 0;
}

static int sim_evidence(const char *root, const unsigned char rd[64], size_t rd_len, json_t **primary,
                        rune_error_t *err)
{
	unsigned char *q = NULL;
	size_t n = 0;
	if (!sim_detect(root))
		return rune_error(err, 0,
		                  "sim evidence: %s%s/attestation_type does not read \"%s\": not inside a "
		                  "simulation enclave (liberpal-sim)",
		                  root ? root : "", DEV_ATTESTATION, SIM_ATTESTATION_TYPE);
	if (attest_dev_attestation_quote(root, "sim", rd, "quote", 8192, &q, &n, err) < 0)
		return -1;
	cleanup_free char *b64 = rune_base64_encode(q, n);
	free(q);
	*primary = json_pack("{s:s,s:s}", "quote", b64, "warning",
	                     "SIMULATION: signed by a key on the host, no TEE protects this enclave");
	return 0;
}

const struct evidence_provider attest_provider_sim = {
	.name = "sim", .kbs_tee = "sim", .detect = sim_detect, .evidence = sim_evidence
};

/* ---- sample: Trustee's insecure development evidence ---- */

static bool sample_detect(const char *root)
{
	return false;
}

static int sample_evidence(const char *root, const unsigned char rd[64], size_t rd_len, json_t **primary,
                           rune_error_t *err)
{
	/* The digest itself, not the 64-byte field: Trustee compares it so. */
	cleanup_free char *b64 = rune_base64_encode(rd, rd_len);
	*primary = json_pack("{s:s,s:s}", "svn", "1", "report_data", b64);
	return 0;
}

const struct evidence_provider attest_provider_sample = {
	.name = "sample", .kbs_tee = "sample", .detect = sample_detect, .evidence = sample_evidence
};

static const struct evidence_provider *const providers[] = {
	&attest_provider_sgx,
	&attest_provider_tdx,
	&attest_provider_sim,
	&attest_provider_sample,
};

const struct evidence_provider *attest_provider_by_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(providers); i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

const struct evidence_provider *attest_provider_detect(const char *root)
{
	for (size_t i = 0; i < ARRAY_SIZE(providers); i++)
		if (providers[i]->detect(root))
			return providers[i];
	return NULL;
}
