/* Unit tests of libruneattest: RFC 8785 with the RFC's own examples, quote
 * parsing against recorded hardware quotes (expected values from Trustee's
 * tests), init-data digests, and JWE both ways with the common helper. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest.h"
#include "encoding.h"
#include "initdata.h"
#include "jcs.h"
#include "jwe.h"
#include "quote.h"
#include "toml.h"
#include "util.h"

#include <jose/jose.h>

#include "check.h"

static void jcs_rfc_examples(void)
{
	/* RFC 8785 §3.2.2: whitespace, numbers, strings and literals. */
	static const char in[] =
	    "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
	    "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
	    "  \"literals\": [null, true, false]\n}";
	static const char want[] =
	    "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
	    "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
	char *out = NULL;
	rune_error_t err = NULL;
	CHECK(attest_jcs_text(in, strlen(in), &out, NULL, &err) == 0);
	CHECK(out && strcmp(out, want) == 0);
	if (out && strcmp(out, want) != 0)
		fprintf(stderr, "got  %s\nwant %s\n", out, want);
	free(out);

	/* §3.2.3: members sorted by UTF-16 code units. */
	static const char sort_in[] =
	    "{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", \"\\ufb33\": \"Hebrew "
	    "Letter Dalet With Dagesh\", \"1\": \"One\", \"\\ud83d\\ude00\": \"Emoji: Grinning "
	    "Face\", \"\\u0080\": \"Control\", \"\\u00f6\": \"Latin Small Letter O With "
	    "Diaeresis\"}";
	CHECK(attest_jcs_text(sort_in, strlen(sort_in), &out, NULL, &err) == 0);
	const char *order[] = { "Carriage Return", "One", "Control", "Latin Small", "Euro Sign", "Emoji", "Hebrew" };
	const char *p = out;
	for (size_t i = 0; p && i < sizeof(order) / sizeof(order[0]); i++) {
		const char *q = strstr(p, order[i]);
		CHECK(q != NULL);
		p = q;
	}
	free(out);

	/* Duplicate names are not I-JSON. */
	CHECK(attest_jcs_text("{\"a\":1,\"a\":2}", 13, &out, NULL, &err) < 0);
	rune_error_release(&err);
}

static void jcs_numbers(void)
{
	/* RFC 8785 Appendix B: IEEE 754 bit patterns and their ES6 strings. */
	static const struct {
		unsigned long long bits;
		const char *want;
	} v[] = {
		{ 0x0000000000000000ULL, "0" },
		{ 0x8000000000000000ULL, "0" },
		{ 0x0000000000000001ULL, "5e-324" },
		{ 0x8000000000000001ULL, "-5e-324" },
		{ 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
		{ 0xffefffffffffffffULL, "-1.7976931348623157e+308" },
		{ 0x4340000000000000ULL, "9007199254740992" },
		{ 0xc340000000000000ULL, "-9007199254740992" },
		{ 0x4430000000000000ULL, "295147905179352830000" },
		{ 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" },
		{ 0x44b52d02c7e14af6ULL, "1e+23" },
		{ 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" },
		{ 0x444b1ae4d6e2ef4fULL, "999999999999999900000" },
		{ 0x444b1ae4d6e2ef50ULL, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" },
		{ 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
		{ 0x41b3de4355555553ULL, "333333333.3333332" },
		{ 0x41b3de4355555554ULL, "333333333.33333325" },
		{ 0x41b3de4355555555ULL, "333333333.3333333" },
		{ 0x41b3de4355555556ULL, "333333333.3333334" },
		{ 0x41b3de4355555557ULL, "333333333.33333343" },
		{ 0xbecbf647612f3696ULL, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959ULL, "1424953923781206.2" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		double d;
		char out[32];
		memcpy(&d, &v[i].bits, sizeof(d));
		CHECK(attest_jcs_number(d, out) == 0 && strcmp(out, v[i].want) == 0);
		if (strcmp(out, v[i].want) != 0)
			fprintf(stderr, "%016llx: got %s want %s\n", v[i].bits, out, v[i].want);
	}
}

static unsigned char *fixture(const char *name, size_t *len)
{
	const char *top = getenv("TOP");
	char *path = xasprintf("%s/tests/fixtures/%s%s", top ? top : ".", strchr(name, '/') ? "" : "quotes/", name);
	char *data = NULL;
	rune_error_t err = NULL;
	if (rune_read_file(path, 1 << 20, &data, len, &err) < 0) {
		fprintf(stderr, "%s\n", err->msg);
		exit(1);
	}
	free(path);
	return (unsigned char *) data;
}

static bool hex_is(const unsigned char *p, size_t n, const char *hex)
{
	char *h = rune_hex_encode(p, n);
	bool ok = strcmp(h, hex) == 0;
	if (!ok)
		fprintf(stderr, "got %s\nwant %s\n", h, hex);
	free(h);
	return ok;
}

static void quotes(void)
{
	size_t n = 0;
	struct quote q;
	rune_error_t err = NULL;
	unsigned char *d = fixture("occlum_quote.dat", &n);
	CHECK(attest_quote_parse(d, n, "occlum", &q, &err) == 0);
	CHECK(q.kind == QUOTE_SGX && q.version == 3);
	CHECK(hex_is(q.mr_enclave, 32, "8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68"));
	CHECK(hex_is(q.mr_signer, 32, "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e"));
	CHECK(memcmp(q.report_data, "test", 4) == 0 && q.report_data[4] == 0 && q.report_data[63] == 0);
	CHECK(q.isv_prod_id == 0 && q.isv_svn == 0);
	/* Truncated and altered copies are refused, naming why. */
	CHECK(attest_quote_parse(d, 400, "occlum", &q, &err) < 0 && strstr(err->msg, "truncated"));
	rune_error_release(&err);
	d[432] ^= 0x7f; /* signature length */
	CHECK(attest_quote_parse(d, n, "occlum", &q, &err) < 0 && strstr(err->msg, "signature length"));
	rune_error_release(&err);
	d[0] = 9;
	CHECK(attest_quote_parse(d, n, "occlum", &q, &err) < 0 && strstr(err->msg, "version 9"));
	rune_error_release(&err);
	free(d);

	d = fixture("tdx_quote_4.dat", &n);
	CHECK(attest_quote_parse(d, n, "tdx4", &q, &err) == 0);
	CHECK(q.kind == QUOTE_TDX && q.version == 4);
	CHECK(
	    hex_is(q.mr_td, 48,
	           "705ee9381b8633a9fbe532b52345e8433343d2868959f57889d84ca377c395b689cac1599ccea1b7d420483a9ce5f031"));
	CHECK(
	    hex_is(q.rtmr[0], 48,
	           "e940da7c2712d2790e2961e00484f4fa8e6f9eed71361655ae22699476b14f9e63867eb41edd4b480fef0c59f496b288"));
	CHECK(
	    hex_is(q.rtmr[1], 48,
	           "559cfcf42716ed6c40a48a73d5acb7da255435012f0a9f00fbe8c1c57612ede486a5684c4c9ff3ddf52315fcdca3a596"));
	CHECK(
	    hex_is(q.mr_seam, 48,
	           "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656"));
	CHECK(hex_is(q.report_data, 64,
	             "7c71fe2c86eff65a7cf8dbc22b3275689fd0464a267baced1bf94fc1324656aeb755da3d44d098c0c87382f3a5f85b45c"
	             "8a28fee1d3bdb38342bf96671501429"));
	unsigned char zero[48] = { 0 };
	CHECK(memcmp(q.mr_config_id, zero, 48) == 0 && memcmp(q.rtmr[2], zero, 48) == 0);
	free(d);

	d = fixture("tdx_quote_5.dat", &n);
	CHECK(attest_quote_parse(d, n, "tdx5", &q, &err) == 0);
	CHECK(q.kind == QUOTE_TDX && q.version == 5);
	CHECK(attest_quote_parse(d, 100, "tdx5", &q, &err) < 0 && strstr(err->msg, "truncated"));
	rune_error_release(&err);
	free(d);
}

static void initdata(void)
{
	static const char doc[] =
	    "version = \"0.1.0\"\nalgorithm = \"sha384\"\n\n[data]\n\"aa.toml\" = '''\n[token_configs]\n'''\n";
	unsigned char d[64], want[64];
	size_t n = 0;
	unsigned int wn = 0;
	const char *alg = NULL;
	rune_error_t err = NULL;
	CHECK(attest_initdata_digest(doc, strlen(doc), d, &n, &alg, &err) == 0);
	EVP_Digest(doc, strlen(doc), want, &wn, EVP_sha384(), NULL);
	CHECK(n == 48 && wn == 48 && memcmp(d, want, 48) == 0 && strcmp(alg, "sha384") == 0);
	static const char bad[] = "version = \"0.1.0\"\nalgorithm = \"md5\"\n";
	CHECK(attest_initdata_digest(bad, strlen(bad), d, &n, &alg, &err) < 0 && strstr(err->msg, "md5"));
	rune_error_release(&err);
	/* algorithm inside a table is not the document's. */
	static const char nested[] = "version = \"0.1.0\"\n[data]\nalgorithm = \"sha256\"\n";
	CHECK(attest_initdata_digest(nested, strlen(nested), d, &n, &alg, &err) < 0);
	rune_error_release(&err);
}

/* Our TOML against Python's tomllib (tests/fixtures/toml/README.md). */
static void toml_against_tomllib(void)
{
	size_t n = 0, wn = 0;
	char *doc = (char *) fixture("toml/initdata.toml", &n);
	json_t *v = NULL;
	char *canon = NULL;
	rune_error_t err = NULL;
	CHECK(attest_toml_parse(doc, n, "initdata.toml", &v, &err) == 0);
	if (err)
		fprintf(stderr, "%s\n", err->msg);
	const struct {
		const char *fixture;
		json_t *value;
	} cases[] = {
		{ "toml/initdata.json", v },
		{ "toml/cdh.json", NULL },
		{ "toml/aa.json", NULL },
	};
	for (size_t i = 0; v && i < 3; i++) {
		json_t *value = cases[i].value;
		if (value == NULL) {
			const char *inner = json_string_value(
			    json_object_get(json_object_get(v, "data"), i == 1 ? "cdh.toml" : "aa.toml"));
			CHECK(inner && attest_toml_parse(inner, strlen(inner), "inner", &value, &err) == 0);
		}
		char *want = (char *) fixture(cases[i].fixture, &wn);
		CHECK(value && attest_jcs(value, &canon, NULL, &err) == 0 && strcmp(canon, want) == 0);
		if (canon && strcmp(canon, want) != 0)
			fprintf(stderr, "got  %s\nwant %s\n", canon, want);
		free(canon);
		canon = NULL;
		free(want);
		if (value != v)
			json_decref(value);
	}
	json_decref(v);
	free(doc);
	/* What the subset refuses, with the line. */
	static const char *const bad[] = { "a = 1.5",        "a = {b = 1}", "[[t]]",
		                           "a.b = 1",        "a = \"x",     "a = 1\na = 2",
		                           "a = 1979-05-27", "a = \"\\q\"", "[t]\nx = 1\n[t.x]" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(attest_toml_parse(bad[i], strlen(bad[i]), "bad", &v, &err) < 0 && strstr(err->msg, "bad: line "));
		if (err == NULL)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		rune_error_release(&err);
	}
}

static void jwe_roundtrip(const char *kty, const char *crv_or_alg)
{
	json_t *key = strcmp(kty, "EC") == 0
	                  ? json_pack("{s:s,s:s}", "kty", "EC", "crv", crv_or_alg)
	                  : json_pack("{s:s,s:i,s:s}", "kty", "RSA", "bits", 2048, "alg", crv_or_alg);
	CHECK(jose_jwk_gen(NULL, key));
	json_t *pub = json_deep_copy(key);
	jose_jwk_pub(NULL, pub);
	rune_error_t err = NULL;
	static const char secret[] = "a KEK of thirty-two bytes, here!";
	json_t *jwe = rune_jwe_encrypt(pub, secret, 32, &err);
	CHECK(jwe != NULL);
	size_t n = 0;
	const char *why = NULL;
	unsigned char *pt = jwe ? rune_jwe_decrypt(jwe, key, 1024, &n, &why) : NULL;
	CHECK(pt && n == 32 && memcmp(pt, secret, 32) == 0);
	rune_jwe_free(pt, n);
	/* ECDH-ES: epk sits in the protected header, as Trustee's clients read it. */
	if (jwe && strcmp(kty, "EC") == 0) {
		const char *prot = json_string_value(json_object_get(jwe, "protected"));
		unsigned char *h = NULL;
		size_t hn = 0;
		CHECK(prot && rune_base64url_decode(prot, strlen(prot), &h, &hn) && strstr((char *) h, "\"epk\""));
		free(h);
		CHECK(json_object_get(jwe, "header") == NULL);
	}
	/* A bound below the content refuses it. */
	CHECK(jwe && rune_jwe_decrypt(jwe, key, 16, &n, &why) == NULL);
	json_decref(jwe);
	json_decref(key);
	json_decref(pub);
}

int main(void)
{
	jcs_rfc_examples();
	jcs_numbers();
	quotes();
	initdata();
	toml_against_tomllib();
	jwe_roundtrip("EC", "P-256");
	jwe_roundtrip("EC", "P-521");
	jwe_roundtrip("RSA", "RSA-OAEP-256");
	jwe_roundtrip("RSA", "RSA1_5");
	printf("%d checks, %d failed\n", checks, failures);
	return failures != 0;
}
