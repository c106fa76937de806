/* rune-attest keyprovider: ocicrypt's key provider cmd protocol for the
 * `attestation-agent` provider. One JSON request on stdin, one answer on
 * stdout:
 *   keywrap   (skopeo --encryption-key provider:attestation-agent:keyid=kbs:///r/t/k::keypath=FILE)
 *             seals the layer options under the 32-byte KEK in FILE;
 *   keyunwrap attests to the KBS, fetches the KEK named by the packet's kid
 *             and opens the options. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attest_cli.h"
#include "cleanup.h"
#include "encoding.h"
#include "util.h"

#include <jansson.h>

#define REQUEST_MAX (1 << 20)
#define PROVIDER    "attestation-agent"

static int b64_member(json_t *o, const char *name, const char *where, unsigned char **out, size_t *len,
                      rune_error_t *err)
{
	const char *s = json_string_value(json_object_get(o, name));
	if (s == NULL || !rune_base64_decode(s, strlen(s), out, len))
		return rune_error(err, 0, "keyprovider: %s.%s is missing or not base64", where, name);
	return 0;
}

/* "keyid=kbs:///default/key/1::keypath=/path/kek" from the request's
 * ec.Parameters["attestation-agent"] (base64 strings): "::" separates the
 * settings (a kid holds "://" itself). */
static int wrap_params(json_t *params, char **keyid, char **keypath, rune_error_t *err)
{
	json_t *list = json_object_get(json_object_get(json_object_get(params, "ec"), "Parameters"), PROVIDER);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		cleanup_free unsigned char *raw = NULL;
		size_t n = 0;
		const char *s = json_string_value(v);
		if (s == NULL || !rune_base64_decode(s, strlen(s), &raw, &n))
			continue;
		for (char *p = (char *) raw, *next; p; p = next) {
			char *sep = strstr(p, "::");
			next = sep ? sep + 2 : NULL;
			if (sep)
				*sep = '\0';
			char **slot = strncmp(p, "keyid=", 6) == 0     ? keyid
			              : strncmp(p, "keypath=", 8) == 0 ? keypath
			                                               : NULL;
			if (slot) {
				free(*slot);
				*slot = xstrdup(strchr(p, '=') + 1);
			}
		}
	}
	if (*keyid == NULL || *keypath == NULL)
		return rune_error(err, 0,
		                  "keyprovider: keywrap needs provider:%s:keyid=kbs:///REPO/TYPE/TAG::keypath=FILE",
		                  PROVIDER);
	return 0;
}

static int keywrap(json_t *req, rune_error_t *err)
{
	json_t *p = json_object_get(req, "keywrapparams");
	cleanup_free char *keyid = NULL, *keypath = NULL, *kek = NULL, *packet = NULL;
	cleanup_free unsigned char *opts = NULL;
	size_t opts_len = 0, kek_len = 0;
	if (wrap_params(p, &keyid, &keypath, err) < 0
	    || b64_member(p, "optsdata", "keywrapparams", &opts, &opts_len, err) < 0)
		return -1;
	if (rune_read_file(keypath, 64, &kek, &kek_len, err) < 0)
		return rune_error_wrap(err, "keyprovider: the KEK");
	int rc = kek_len == 32
	             ? attest_wrap_annotation_packet((unsigned char *) kek, keyid, opts, opts_len, &packet, err)
	             : rune_error(err, 0, "keyprovider: %s holds %zu bytes, not a 32-byte KEK", keypath, kek_len);
	OPENSSL_cleanse(kek, kek_len);
	OPENSSL_cleanse(opts, opts_len);
	if (rc < 0)
		return -1;
	cleanup_free char *ann = rune_base64_encode(packet, strlen(packet));
	json_t *out = json_pack("{s:{s:s}}", "keywrapresults", "annotation", ann);
	json_dumpf(out, stdout, JSON_COMPACT);
	json_decref(out);
	return 0;
}

static int keyunwrap(struct attest_cli *c, json_t *req, rune_error_t *err)
{
	json_t *p = json_object_get(req, "keyunwrapparams");
	cleanup_free unsigned char *packet = NULL;
	unsigned char *opts = NULL;
	size_t packet_len = 0, opts_len = 0;
	struct attest_ctx *ctx = NULL;
	if (b64_member(p, "annotation", "keyunwrapparams", &packet, &packet_len, err) < 0
	    || cli_attest_ctx(c, &ctx, err) < 0)
		return -1;
	int rc = attest_unwrap_annotation_packet(ctx, (char *) packet, packet_len, &opts, &opts_len, err);
	attest_ctx_free(ctx);
	if (rc < 0)
		return -1;
	char *b64 = rune_base64_encode(opts, opts_len);
	attest_secret_free(opts, opts_len);
	json_t *out = json_pack("{s:{s:s}}", "keyunwrapresults", "optsdata", b64);
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	json_dumpf(out, stdout, JSON_COMPACT);
	json_decref(out);
	return 0;
}

int cmd_keyprovider(struct attest_cli *c, rune_error_t *err)
{
	cleanup_free char *in = NULL;
	size_t n = 0;
	json_error_t je;
	if (rune_read_fd_all(STDIN_FILENO, "keyprovider: stdin", REQUEST_MAX, &in, &n, err) < 0)
		return -1;
	json_t *req = json_loadb(in, n, 0, &je);
	const char *op = json_string_value(json_object_get(req, "op"));
	int rc;
	if (op && strcmp(op, "keywrap") == 0)
		rc = keywrap(req, err);
	else if (op && strcmp(op, "keyunwrap") == 0)
		rc = keyunwrap(c, req, err);
	else
		rc = rune_error(err, 0, "keyprovider: the request's op is %s (expected keywrap or keyunwrap)",
		                op    ? op
		                : req ? "missing"
		                      : "unreadable: not JSON");
	json_decref(req);
	return rc;
}
