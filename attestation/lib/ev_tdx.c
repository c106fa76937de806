/* TDX evidence through configfs-tsm: a report directory per request, 64
 * bytes into inblob, the quote from outblob, generation checked for races.
 * Evidence for Trustee's tdx verifier: {"cc_eventlog": null, "quote": b64}. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "encoding.h"
#include "evidence.h"
#include "quote.h"
#include "util.h"

#define TSM_REPORT    "/sys/kernel/config/tsm/report"
#define TDX_QUOTE_MAX (32 * 1024)

static bool tdx_detect(const char *root)
{
	cleanup_free char *p = attest_path(root, TSM_REPORT);
	cleanup_free char *guest = attest_path(root, "/dev/tdx_guest");
	return access(p, F_OK) == 0 && access(guest, F_OK) == 0;
}

static int read_attr(const char *dir, const char *name, size_t max, char **out, size_t *len, rune_error_t *err)
{
	cleanup_free char *p = xasprintf("%s/%s", dir, name);
	return rune_read_file(p, max, out, len, err);
}

static int tdx_quote(const char *dir, const unsigned char rd[64], unsigned char **out, size_t *len, rune_error_t *err)
{
	cleanup_free char *provider = NULL, *gen = NULL;
	size_t n = 0;
	if (read_attr(dir, "provider", 64, &provider, &n, err) < 0)
		return -1;
	if (strncmp(provider, "tdx_guest", 9) != 0)
		return rune_error(err, 0, "%s/provider reads \"%.*s\", not tdx_guest", dir,
		                  (int) strcspn(provider, "\n"), provider);
	cleanup_free char *in = xasprintf("%s/inblob", dir);
	cleanup_close int w = open(in, O_WRONLY | O_CLOEXEC);
	if (w < 0)
		return rune_error(err, errno, "open %s", in);
	if (write(w, rd, 64) != 64)
		return rune_error(err, errno, "write 64 bytes to %s", in);
	/* A binary configfs attribute is applied at close, where errors are
	 * otherwise lost: check close, then generation below. */
	if (close(take_fd(&w)) < 0)
		return rune_error(err, errno, "close %s", in);
	if (read_attr(dir, "outblob", TDX_QUOTE_MAX, (char **) out, len, err) < 0)
		return -1;
	if (read_attr(dir, "generation", 32, &gen, &n, err) < 0 || strtoul(gen, NULL, 10) != 1) {
		free(*out);
		if (gen)
			return rune_error(err, 0, "%s/generation reads %.*s, not 1: another writer raced this report",
			                  dir, (int) strcspn(gen, "\n"), gen);
		return -1;
	}
	return 0;
}

static int tdx_evidence(const char *root, const unsigned char rd[64], size_t rd_len, json_t **primary,
                        rune_error_t *err)
{
	cleanup_free char *base = attest_path(root, TSM_REPORT);
	cleanup_free char *dir = xasprintf("%s/rune-%d-%ld", base, getpid(), (long) random());
	unsigned char *q = NULL;
	size_t n = 0;
	if (mkdir(dir, 0700) < 0)
		return rune_error(err, errno, "tdx evidence: mkdir %s%s", dir,
		                  errno == ENXIO ? " (no configfs-tsm provider: not a TDX guest?)" : "");
	int rc = tdx_quote(dir, rd, &q, &n, err);
	rmdir(dir);
	if (rc < 0)
		return rune_error_wrap(err, "tdx evidence");
	cleanup_free char *b64 = NULL;
	if (attest_quote_take_b64(q, n, QUOTE_TDX, "tdx evidence: outblob", &b64, err) < 0)
		return -1;
	*primary = json_pack("{s:n,s:s}", "cc_eventlog", "quote", b64);
	return 0;
}

const struct evidence_provider attest_provider_tdx = {
	.name = "tdx", .kbs_tee = "tdx", .detect = tdx_detect, .evidence = tdx_evidence
};
