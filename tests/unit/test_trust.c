/* Unit tests: libruneimage's trust parts as a TEE uses them, from memory —
 * policy.json (with keys a reader callback resolves, as a KBS would),
 * scopes, signed identities, registries.d, payloads, bundles, base64. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cleanup.h"
#include "encoding.h"
#include "policy.h"
#include "ref.h"
#include "registries_d.h"
#include "sigbundle.h"
#include "sigpayload.h"
#include "util.h"

#include "check.h"

#define D64_FOR_TEST "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char last_error[4096];

/* A PEM P-256 public key (any will do: it only has to parse). */
static const char PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                          "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoQvZUzjB+hSA10WWA6qphQyNNKgb\n"
                          "EX9bPROflMg8yAh3hHTXdEYyQ/7K7HA/ugUXgJrwQDZmWUZo7nN3H/AMig==\n"
                          "-----END PUBLIC KEY-----\n";

/* What a KBS would hand over for kbs:/// paths. */
static int kbs_reader(const char *path, size_t max, char **data, size_t *len, void *arg, rune_error_t *err)
{
	int *calls = arg;
	(*calls)++;
	if (strcmp(path, "kbs:///default/cosign/pub") != 0)
		return rune_error(err, 0, "%s: no such resource", path);
	*data = xstrdup(PUB);
	*len = strlen(PUB);
	return max >= *len ? 0 : -1;
}

static struct policy *parse(const char *json, const struct image_trust *t)
{
	struct policy *p = NULL;
	rune_error_t err = NULL;
	last_error[0] = '\0';
	if (image_policy_parse(json, strlen(json), "kbs:///default/policy/1", t, &p, &err) < 0) {
		snprintf(last_error, sizeof(last_error), "%s", err->msg);
		rune_error_release(&err);
		return NULL;
	}
	return p;
}

static void test_policy_from_memory(void)
{
	int calls = 0;
	struct image_trust t = { .read_file = kbs_reader, .read_file_arg = &calls };
	struct policy *p = parse("{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {"
	                         "\"registry.example.com/app\": [{\"type\": \"sigstoreSigned\", "
	                         "\"keyPath\": \"kbs:///default/cosign/pub\", "
	                         "\"signedIdentity\": {\"type\": \"matchRepository\"}}]}}}",
	                         &t);
	CHECK(p != NULL);
	CHECK(calls == 1);
	CHECK(p && p->n_docker == 1 && p->docker[0].reqs.n == 1);
	CHECK(p && p->docker[0].reqs.v[0].n_keys == 1 && p->docker[0].reqs.v[0].keys[0].len == strlen(PUB));
	CHECK(p && strcmp(p->docker[0].reqs.v[0].keys[0].name, "keyPath kbs:///default/cosign/pub") == 0);
	image_policy_free(p);
	CHECK(parse("{\"default\": [{\"type\": \"sigstoreSigned\", \"keyPath\": \"kbs:///default/other\"}]}", &t)
	      == NULL);
	CHECK(strstr(last_error, "policy kbs:///default/policy/1: default[0].keyPath: kbs:///default/other: no such "
	                         "resource")
	      != NULL);
	/* keyData is base64 of the PEM */
	char *b64 = rune_base64_encode(PUB, strlen(PUB));
	char *json = xasprintf("{\"default\": [{\"type\": \"sigstoreSigned\", \"keyDatas\": [\"%s\", \"%s\"], "
	                       "\"rekorPublicKeyData\": \"%s\"}]}",
	                       b64, b64, b64);
	p = parse(json, &t);
	CHECK(p && p->def.v[0].n_keys == 2 && p->def.v[0].n_rekor_keys == 1);
	CHECK(p && strcmp(p->def.v[0].keys[1].name, "keyDatas[1]") == 0);
	image_policy_free(p);
	free(json);
	free(b64);
	/* JSON paths in errors */
	CHECK(parse("{\"default\": [{\"type\": \"insecureAcceptAnything\"}], \"transports\": {\"docker\": "
	            "{\"a.example/x\": [{\"type\": \"reject\"}, {\"type\": \"sigstoreSigned\", "
	            "\"keyPath\": \"kbs:///default/cosign/pub\", \"signedIdentity\": {\"type\": "
	            "\"remapIdentity\", \"prefix\": \"a.example\", \"signedPrefix\": \"b.example/x:1\"}}]}}}",
	            &t)
	      == NULL);
	CHECK(strstr(last_error, "transports.docker[\"a.example/x\"][1].signedIdentity.signedPrefix") != NULL);
	CHECK(parse("{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {\"x.example\": "
	            "[{\"type\": \"reject\", \"signedIdentity\": {}}]}}}",
	            &t)
	      == NULL);
	CHECK(strstr(last_error, "transports.docker[\"x.example\"][0]: unknown field \"signedIdentity\"") != NULL);
	CHECK(parse("{\"default\": [{\"type\": \"sigstoreSigned\", \"keyDatas\": []}]}", &t) == NULL);
	CHECK(strstr(last_error, "default[0].keyDatas: contains no entries") != NULL);
	CHECK(parse("{\"default\": [{\"type\": \"sigstoreSigned\", \"keyData\": \"!!\"}]}", &t) == NULL);
	CHECK(strstr(last_error, "default[0].keyData: not valid base64") != NULL);
	CHECK(parse("{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {\"x.example\": "
	            "[{\"type\": \"reject\"}], \"x.example\": [{\"type\": \"reject\"}]}}}",
	            &t)
	      == NULL);
	CHECK(strstr(last_error, "appears twice") != NULL);
	CHECK(parse("{\"default\": [{\"type\": \"reject\"}], \"transports\": []}", &t) == NULL);
	CHECK(strstr(last_error, "transports: want an object") != NULL);
	CHECK(parse("{\"default\": \"reject\"}", &t) == NULL);
	CHECK(strstr(last_error, "default: want an array of requirements") != NULL);
}

static const char *scope_for(const struct policy *p, const char *ref)
{
	struct image_ref r;
	rune_error_t err = NULL;
	if (image_ref_parse(ref, &r, &err) < 0) {
		rune_error_release(&err);
		return "(bad ref)";
	}
	const struct policy_reqs *reqs = image_policy_for(p, &r);
	image_ref_release(&r);
	return reqs->where;
}

static void test_scopes(void)
{
	struct image_trust t = { 0 };
	struct policy *p = parse("{\"default\": [{\"type\": \"reject\"}], \"transports\": {\"docker\": {"
	                         "\"\": [{\"type\": \"reject\"}],"
	                         "\"*.example.com\": [{\"type\": \"reject\"}],"
	                         "\"*.sub.example.com\": [{\"type\": \"reject\"}],"
	                         "\"reg.sub.example.com:5000\": [{\"type\": \"reject\"}],"
	                         "\"reg.sub.example.com:5000/ns\": [{\"type\": \"reject\"}],"
	                         "\"reg.sub.example.com:5000/ns/app:1\": [{\"type\": \"reject\"}],"
	                         "\"docker.io/library\": [{\"type\": \"reject\"}]}}}",
	                         &t);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK(strcmp(scope_for(p, "reg.sub.example.com:5000/ns/app:1"),
	             "transports.docker[\"reg.sub.example.com:5000/ns/app:1\"]")
	      == 0);
	CHECK(strcmp(scope_for(p, "reg.sub.example.com:5000/ns/app:2"),
	             "transports.docker[\"reg.sub.example.com:5000/ns\"]")
	      == 0);
	CHECK(strcmp(scope_for(p, "reg.sub.example.com:5000/other/app"),
	             "transports.docker[\"reg.sub.example.com:5000\"]")
	      == 0);
	CHECK(strcmp(scope_for(p, "other.sub.example.com/app"), "transports.docker[\"*.sub.example.com\"]") == 0);
	CHECK(strcmp(scope_for(p, "x.example.com/app"), "transports.docker[\"*.example.com\"]") == 0);
	CHECK(strcmp(scope_for(p, "example.org/app"), "transports.docker[\"\"]") == 0);
	CHECK(strcmp(scope_for(p, "busybox"), "transports.docker[\"docker.io/library\"]") == 0);
	image_policy_free(p);
	/* the scopes themselves, as containers/image lists them */
	struct image_ref r;
	rune_error_t err = NULL;
	CHECK(image_ref_parse("a.b.example.com:5000/ns/app@" D64_FOR_TEST, &r, &err) == 0);
	char **s = image_policy_scopes_of(&r);
	const char *want[] = { "a.b.example.com:5000/ns/app@" D64_FOR_TEST,
		               "a.b.example.com:5000/ns/app",
		               "a.b.example.com:5000/ns",
		               "a.b.example.com:5000",
		               "*.b.example.com",
		               "*.example.com",
		               "*.com",
		               NULL };
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		CHECK((s[i] == NULL && want[i] == NULL) || (s[i] && want[i] && strcmp(s[i], want[i]) == 0));
	cleanup_strvp(&s);
	image_ref_release(&r);
}

static bool matches(enum identity_type type, const char *ref, const char *image, const char *signed_ref)
{
	struct signed_identity id = { .type = type, .reference = (char *) ref };
	if (type == ID_REMAP_IDENTITY) {
		id.prefix = (char *) "mirror.example/ns";
		id.signed_prefix = (char *) "origin.example/ns";
		id.reference = NULL;
	}
	struct image_ref r;
	rune_error_t err = NULL;
	char *why = NULL;
	if (image_ref_parse(image, &r, &err) < 0) {
		rune_error_release(&err);
		return false;
	}
	bool ok = image_identity_matches(&id, &r, signed_ref, &why);
	CHECK(ok == (why == NULL));
	free(why);
	image_ref_release(&r);
	return ok;
}

static void test_identities(void)
{
	const char *img = "reg.example/ns/app:1", *dig = "reg.example/ns/app@" D64_FOR_TEST;
	CHECK(matches(ID_MATCH_EXACT, NULL, img, "reg.example/ns/app:1"));
	CHECK(!matches(ID_MATCH_EXACT, NULL, img, "reg.example/ns/app:2"));
	CHECK(!matches(ID_MATCH_EXACT, NULL, img, "reg.example/ns/app"));
	CHECK(matches(ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, img, "reg.example/ns/app:1"));
	CHECK(!matches(ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, img, "reg.example/ns/app"));
	CHECK(matches(ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, dig, "reg.example/ns/app:7"));
	CHECK(matches(ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, dig, "reg.example/ns/app"));
	CHECK(!matches(ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, dig, "reg.example/ns/other"));
	CHECK(matches(ID_MATCH_REPOSITORY, NULL, img, "reg.example/ns/app:9"));
	CHECK(!matches(ID_MATCH_REPOSITORY, NULL, img, "reg.example/ns/app2"));
	CHECK(matches(ID_MATCH_REPOSITORY, NULL, "busybox", "docker.io/library/busybox"));
	CHECK(matches(ID_EXACT_REFERENCE, "other.example/x:1", img, "other.example/x:1"));
	CHECK(!matches(ID_EXACT_REFERENCE, "other.example/x:1", img, "other.example/x:2"));
	CHECK(matches(ID_EXACT_REPOSITORY, "other.example/x", img, "other.example/x:5"));
	CHECK(!matches(ID_EXACT_REPOSITORY, "other.example/x", img, "other.example/y"));
	CHECK(matches(ID_REMAP_IDENTITY, NULL, "mirror.example/ns/app:1", "origin.example/ns/app:1"));
	CHECK(!matches(ID_REMAP_IDENTITY, NULL, "mirror.example/ns/app:1", "mirror.example/ns/app:1"));
	CHECK(!matches(ID_REMAP_IDENTITY, NULL, "mirror.example/nsx/app:1", "origin.example/nsx/app:1"));
	CHECK(matches(ID_REMAP_IDENTITY, NULL, "other.example/ns/app:1", "other.example/ns/app:1"));
	/* no signed identity (a bundle): the repository it was found in stands for it */
	CHECK(matches(ID_MATCH_REPOSITORY, NULL, img, NULL));
	CHECK(!matches(ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, img, NULL));
	CHECK(matches(ID_MATCH_REPO_DIGEST_OR_EXACT, NULL, dig, NULL));
	CHECK(!matches(ID_EXACT_REFERENCE, "reg.example/ns/app:1", img, NULL));
	CHECK(!matches(ID_MATCH_REPOSITORY, NULL, img, "not a reference"));
}

static void storage_for(struct registries_d *r, const char *ref, struct sig_storage *s)
{
	struct image_ref ir;
	rune_error_t err = NULL;
	CHECK(image_ref_parse(ref, &ir, &err) == 0);
	image_registries_d_for(r, &ir, s);
	image_ref_release(&ir);
}

static void test_registries_d(void)
{
	struct registries_d *r = NULL;
	rune_error_t err = NULL;
	const char *a = "default-docker:\n  sigstore: https://old.example/sigs\n"
	                "docker:\n  reg.example/ns:\n    lookaside: file:///sigs\n    use-sigstore-attachments: yes\n"
	                "  reg.example/ns/app:\n    use-sigstore-attachments: false\nunknown-key: 1\n";
	CHECK(image_registries_d_parse(&r, a, strlen(a), "a.yaml", &err) == 0);
	struct sig_storage s;
	storage_for(r, "reg.example/ns/app:1", &s);
	CHECK(s.lookaside && strcmp(s.lookaside, "file:///sigs") == 0);
	CHECK(s.use_attachments == 0 && strstr(s.attachments_from, "reg.example/ns/app") != NULL);
	image_sig_storage_release(&s);
	storage_for(r, "reg.example/ns/other", &s);
	CHECK(s.use_attachments == 1);
	image_sig_storage_release(&s);
	storage_for(r, "elsewhere.example/x", &s);
	CHECK(s.lookaside && strcmp(s.lookaside, "https://old.example/sigs") == 0 && s.use_attachments == -1);
	CHECK(strcmp(s.lookaside_from, "a.yaml: default-docker") == 0);
	image_sig_storage_release(&s);
	const char *b = "default-docker:\n  lookaside: https://new.example\n";
	CHECK(image_registries_d_parse(&r, b, strlen(b), "b.yaml", &err) < 0);
	CHECK(err && strstr(err->msg, "default-docker is defined both in a.yaml and in b.yaml") != NULL);
	rune_error_release(&err);
	const char *c = "docker:\n  x.example:\n    lookaside: [1, 2]\n";
	CHECK(image_registries_d_parse(&r, c, strlen(c), "c.yaml", &err) < 0);
	CHECK(err && strstr(err->msg, "registries.d c.yaml: docker[\"x.example\"].lookaside: want a URL") != NULL);
	rune_error_release(&err);
	const char *d = "a: &x [*x]\n";
	CHECK(image_registries_d_parse(&r, d, strlen(d), "d.yaml", &err) == 0 || err != NULL);
	rune_error_release(&err);
	image_registries_d_free(r);
}

static void test_payloads_and_bundles(void)
{
	char *why = NULL;
	struct sig_payload p;
	const char *ok = "{\"critical\":{\"type\":\"cosign container image signature\",\"image\":{\"docker-manifest-"
	                 "digest\":\"" D64_FOR_TEST "\"},\"identity\":{\"docker-reference\":\"r.example/a\"}},"
	                 "\"optional\":null}";
	CHECK(image_sig_payload_parse((const unsigned char *) ok, strlen(ok), SIG_TYPE_COSIGN, &p, &why) == 0);
	CHECK(p.identity && strcmp(p.identity, "r.example/a") == 0);
	image_sig_payload_release(&p);
	/* null optional is cosign's, not simple signing's */
	CHECK(image_sig_payload_parse((const unsigned char *) ok, strlen(ok), SIG_TYPE_ATOMIC, &p, &why) < 0);
	free(why);
	why = NULL;
	const char nul[] = "{\"critical\":{}}\0trailing";
	CHECK(image_sig_payload_parse((const unsigned char *) nul, sizeof(nul) - 1, SIG_TYPE_COSIGN, &p, &why) < 0);
	CHECK(why && strstr(why, "NUL") != NULL);
	free(why);
	why = NULL;
	const char *bad_digest = "{\"critical\":{\"type\":\"cosign container image signature\",\"image\":{\"docker-"
	                         "manifest-digest\":\"sha256:abc\"},\"identity\":{\"docker-reference\":\"r/a\"}},"
	                         "\"optional\":{}}";
	CHECK(image_sig_payload_parse((const unsigned char *) bad_digest, strlen(bad_digest), SIG_TYPE_COSIGN, &p, &why)
	      < 0);
	free(why);
	why = NULL;
	struct intoto_subject *subj;
	size_t n;
	const char *st =
	    "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"ab\"}}],"
	    "\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":{}}";
	CHECK(image_intoto_parse((const unsigned char *) st, strlen(st), COSIGN_SIGN_PREDICATE, &subj, &n, &why) < 0);
	CHECK(why && strstr(why, "an attestation, not an image signature") != NULL);
	free(why);
	why = NULL;
	CHECK(image_intoto_parse((const unsigned char *) st, strlen(st), NULL, &subj, &n, &why) == 0);
	CHECK(n == 1 && subj[0].name == NULL && strcmp(subj[0].sha256, "ab") == 0);
	image_intoto_subjects_free(subj, n);
	struct sig_bundle b;
	const char *bundles[] = {
		"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"}",
		"{\"mediaType\":\"application/x-other\",\"verificationMaterial\":{\"publicKey\":{}}}",
		"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":"
		"{\"publicKey\":{},\"certificate\":{\"rawBytes\":\"AA==\"}},\"messageSignature\":{}}",
		"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":"
		"{\"publicKey\":{}},\"messageSignature\":{\"messageDigest\":{\"algorithm\":\"SHA2_512\",\"digest\":"
		"\"AA==\"},"
		"\"signature\":\"AA==\"}}",
		"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":"
		"{\"publicKey\":{},\"tlogEntries\":[{}]},\"dsseEnvelope\":{}}",
		"{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\"verificationMaterial\":"
		"{\"publicKey\":{}},\"dsseEnvelope\":{\"payload\":\"e30=\",\"payloadType\":\"x\",\"signatures\":[]}}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bundles); i++) {
		CHECK(image_bundle_parse(bundles[i], strlen(bundles[i]), &b, &why) < 0);
		CHECK(why != NULL);
		free(why);
		why = NULL;
	}
	size_t pae_len;
	unsigned char *pae = image_dsse_pae("t", (const unsigned char *) "{}", 2, &pae_len);
	CHECK(pae_len == 15 && memcmp(pae, "DSSEv1 1 t 2 {}", 15) == 0);
	free(pae);
}

static void test_base64(void)
{
	unsigned char *out;
	size_t n;
	CHECK(rune_base64_decode("aGVsbG8=", 8, &out, &n) && n == 5 && memcmp(out, "hello", 5) == 0);
	free(out);
	CHECK(rune_base64_decode("aGVs\nbG8", 8, &out, &n) && n == 5);
	free(out);
	CHECK(!rune_base64_decode("aGVsbG9=", 8, &out, &n)); /* non-zero trailing bits */
	CHECK(!rune_base64_decode("aGVsb", 5, &out, &n));
	CHECK(!rune_base64_decode("aG=Vs", 5, &out, &n));
	CHECK(!rune_base64_decode("aGVs-G8=", 8, &out, &n));
	CHECK(rune_base64url_decode("-_8", 3, &out, &n) && n == 2 && out[0] == 0xfb && out[1] == 0xff);
	free(out);
	char *e = rune_base64_encode("hello", 5);
	CHECK(strcmp(e, "aGVsbG8=") == 0);
	free(e);
	CHECK(rune_hex_decode("00fF", &out, &n) && n == 2 && out[1] == 0xff);
	free(out);
	CHECK(!rune_hex_decode("0g", &out, &n));
}

int main(void)
{
	test_policy_from_memory();
	test_scopes();
	test_identities();
	test_registries_d();
	test_payloads_and_bundles();
	test_base64();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
