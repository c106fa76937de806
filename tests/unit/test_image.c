/* Unit tests: libruneimage's references, manifests, platforms, registries.conf,
 * credentials and stream stages. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "access.h"
#include "manifest.h"
#include "ref.h"
#include "stream.h"
#include "util.h"

#include "check.h"

static char errbuf[2048];

static const char *norm(const char *s)
{
	static char out[1024];
	struct image_ref r;
	rune_error_t err = NULL;
	if (image_ref_parse(s, &r, &err) < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s", err->msg);
		rune_error_release(&err);
		return NULL;
	}
	char *x = image_ref_string(&r);
	snprintf(out, sizeof(out), "%s", x);
	free(x);
	image_ref_release(&r);
	return out;
}

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_refs(void)
{
	static const char *const ok[][2] = {
		{ "busybox", "docker.io/library/busybox:latest" },
		{ "busybox:1.36", "docker.io/library/busybox:1.36" },
		{ "docker.io/busybox", "docker.io/library/busybox:latest" },
		{ "index.docker.io/library/busybox", "docker.io/library/busybox:latest" },
		{ "user/app:v1", "docker.io/user/app:v1" },
		{ "localhost/app", "localhost/app:latest" },
		{ "localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t" },
		{ "127.0.0.1:5000/x@" D64, "127.0.0.1:5000/x@" D64 },
		{ "quay.io/a/b:t@" D64, "quay.io/a/b:t@" D64 },
		{ "docker://example.com/a__b/c-d.e:latest", "example.com/a__b/c-d.e:latest" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *got = norm(ok[i][0]);
		CHECK(got && strcmp(got, ok[i][1]) == 0);
		if (!got || strcmp(got, ok[i][1]))
			fprintf(stderr, "  %s -> %s (%s)\n", ok[i][0], got ? got : "error", got ? "" : errbuf);
	}
	CHECK(norm("Upper/case") == NULL && strstr(errbuf, "lowercase"));
	CHECK(norm("a:b:c") == NULL);
	CHECK(norm("a:b/c:d!") == NULL && strstr(errbuf, "bad tag"));
	CHECK(norm("a@sha256:123") == NULL && strstr(errbuf, "64 lowercase hex"));
	CHECK(norm("a@md5:00") == NULL && strstr(errbuf, "sha256:<hex> or sha512"));
	CHECK(norm("") == NULL);
	CHECK(norm("a//b") == NULL);
	CHECK(norm("-a") == NULL);
	rune_error_t err = NULL;
	CHECK(image_digest_validate("sha512:"
	                            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
	                            "000000000000000000000000000000000000000000000000",
	                            "x", &err)
	      == 0);
	rune_error_release(&err);
}

static const char *manifest_err(const char *body, const char *ct, struct manifest *out)
{
	struct manifest m;
	rune_error_t err = NULL;
	int r = image_manifest_parse(body, ct, "m", &m, &err);
	if (r == 0 && out) {
		*out = m;
		return NULL;
	}
	snprintf(errbuf, sizeof(errbuf), "%s", r < 0 ? err->msg : "");
	rune_error_release(&err);
	image_manifest_release(&m);
	return r < 0 ? errbuf : NULL;
}

#define CFG       "{\"mediaType\": \"" MT_OCI_CONFIG "\", \"digest\": \"" D64 "\", \"size\": 10}"
#define LAYER(mt) "{\"mediaType\": \"" mt "\", \"digest\": \"" D64 "\", \"size\": 100}"

static void test_manifests(void)
{
	struct manifest m;
	CHECK(manifest_err("{\"schemaVersion\": 2, \"mediaType\": \"" MT_OCI_MANIFEST "\", \"config\": " CFG
	                   ", \"layers\": [" LAYER("application/vnd.oci.image.layer.v1.tar+gzip") "]}",
	                   NULL, &m)
	      == NULL);
	CHECK(m.kind == MANIFEST_IMAGE && m.n_layers == 1 && m.layers[0].size == 100);
	enum compression c;
	rune_error_t err = NULL;
	bool encrypted;
	CHECK(image_layer_compression(&m.layers[0], &c, &encrypted, &err) == 0 && c == COMPRESSION_GZIP && !encrypted);
	image_manifest_release(&m);
	CHECK(strstr(manifest_err("{\"schemaVersion\": 1, \"name\": \"x\"}", NULL, NULL), "schema 1"));
	CHECK(strstr(
	    manifest_err("{\"schemaVersion\": 2}", "application/vnd.docker.distribution.manifest.v1+prettyjws", NULL),
	    "schema 1"));
	CHECK(strstr(manifest_err("{\"schemaVersion\": 2, \"config\": " CFG ", \"layers\": [{\"mediaType\": \"x\", "
	                          "\"digest\": \"sha256:abc\", \"size\": 1}]}",
	                          NULL, NULL),
	             "m: layers[0]: digest \"sha256:abc\""));
	CHECK(strstr(manifest_err("{\"schemaVersion\": 2, \"config\": " CFG ", \"layers\": [{\"mediaType\": \"x\", "
	                          "\"digest\": \"" D64 "\", \"size\": -1}]}",
	                          NULL, NULL),
	             "layers[0]: size"));
	CHECK(
	    strstr(manifest_err("{\"schemaVersion\": 2, \"config\": {\"mediaType\": \"text/plain\", \"digest\": \"" D64
	                        "\", \"size\": 1}, \"layers\": []}",
	                        NULL, NULL),
	           "not an image config"));
	/* an index, and platform choice */
	CHECK(manifest_err("{\"schemaVersion\": 2, \"mediaType\": \"" MT_DOCKER_LIST "\", \"manifests\": ["
	                   "{\"mediaType\": \"" MT_DOCKER_MANIFEST "\", \"digest\": \"" D64 "\", \"size\": 1, "
	                   "\"platform\": {\"os\": \"linux\", \"architecture\": \"arm\", \"variant\": \"v6\"}},"
	                   "{\"mediaType\": \"" MT_DOCKER_MANIFEST "\", \"digest\": \"" D64 "\", \"size\": 2, "
	                   "\"platform\": {\"os\": \"linux\", \"architecture\": \"arm\", \"variant\": \"v7\"}},"
	                   "{\"mediaType\": \"" MT_DOCKER_MANIFEST "\", \"digest\": \"" D64 "\", \"size\": 3, "
	                   "\"platform\": {\"os\": \"linux\", \"architecture\": \"amd64\"}}]}",
	                   NULL, &m)
	      == NULL);
	struct platform p;
	const struct descriptor *d = NULL;
	CHECK(image_platform_parse("linux/arm/v7", &p, &err) == 0);
	CHECK(image_manifest_select(&m, &p, &d, "i", &err) == 0 && d->size == 2);
	image_platform_release(&p);
	CHECK(image_platform_parse("linux/amd64", &p, &err) == 0);
	CHECK(image_manifest_select(&m, &p, &d, "i", &err) == 0 && d->size == 3);
	image_platform_release(&p);
	CHECK(image_platform_parse("linux/ppc64le", &p, &err) == 0);
	CHECK(image_manifest_select(&m, &p, &d, "i", &err) < 0
	      && strstr(err->msg, "linux/arm/v6, linux/arm/v7, linux/amd64"));
	rune_error_release(&err);
	image_platform_release(&p);
	CHECK(image_platform_parse("linux", &p, &err) < 0);
	rune_error_release(&err);
	image_manifest_release(&m);
	struct descriptor enc = { .media_type = (char *) "application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
		                  .digest = (char *) D64 };
	CHECK(image_layer_compression(&enc, &c, &encrypted, &err) == 0 && c == COMPRESSION_GZIP && encrypted);
	enc.media_type = (char *) "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd+encrypted";
	CHECK(image_layer_compression(&enc, &c, &encrypted, &err) == 0 && c == COMPRESSION_ZSTD && encrypted);
	enc.media_type = (char *) "application/vnd.oci.image.layer.v1.tar+encrypted";
	CHECK(image_layer_compression(&enc, &c, &encrypted, &err) == 0 && c == COMPRESSION_NONE && encrypted);
	enc.media_type = (char *) "application/vnd.docker.image.rootfs.diff.tar.gzip+encrypted";
	CHECK(image_layer_compression(&enc, &c, &encrypted, &err) < 0 && strstr(err->msg, "only OCI layer types"));
	rune_error_release(&err);
}

static char *write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/rune-unit-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || rune_write_all(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
	return path;
}

static void test_registries_conf(void)
{
	char *conf = write_tmp("unqualified-search-registries = [\"docker.io\"]\n"
	                       "[[registry]]\n"
	                       "prefix = \"docker.io/library\"  # comment\n"
	                       "location = \"registry-1.docker.io/library\"\n"
	                       "[[registry.mirror]]\n"
	                       "location = \"mirror.local:5000/hub\"\n"
	                       "insecure = true\n"
	                       "[[registry]]\n"
	                       "location = \"bad.example\"\n"
	                       "blocked = true\n"
	                       "[registries.insecure]\n"
	                       "registries = [\n  \"old.example\",\n]\n");
	struct registry_access a = { .registries_conf = conf, .tls_verify = -1 };
	struct image_ref r;
	struct registry_endpoint *e = NULL;
	size_t n = 0;
	rune_error_t err = NULL;
	CHECK(image_ref_parse("busybox", &r, &err) == 0);
	CHECK(image_access_endpoints(&a, &r, &e, &n, &err) == 0 && n == 2);
	if (n == 2) {
		CHECK(strcmp(e[0].host, "mirror.local:5000") == 0 && strcmp(e[0].repository, "hub/busybox") == 0
		      && e[0].insecure && e[0].mirror);
		CHECK(strcmp(e[1].host, "registry-1.docker.io") == 0 && strcmp(e[1].repository, "library/busybox") == 0
		      && !e[1].insecure);
	}
	image_access_endpoints_free(e, n);
	image_ref_release(&r);
	CHECK(image_ref_parse("bad.example/x", &r, &err) == 0);
	CHECK(image_access_endpoints(&a, &r, &e, &n, &err) < 0 && strstr(err->msg, "blocked"));
	rune_error_release(&err);
	image_ref_release(&r);
	CHECK(image_ref_parse("old.example/x", &r, &err) == 0);
	CHECK(image_access_endpoints(&a, &r, &e, &n, &err) == 0 && n == 1 && e[0].insecure);
	image_access_endpoints_free(e, n);
	image_ref_release(&r);
	unlink(conf);
	free(conf);

	/* credentials: auth.json, docker's URL key for docker.io, --creds */
	char *auth = write_tmp("{\"auths\": {\"https://index.docker.io/v1/\": {\"auth\": \"dXNlcjpwYTpzcw==\"},"
	                       "\"reg.example:5000\": {\"auth\": \"bm9jb2xvbg==\"}}}");
	struct registry_access b = { .authfile = auth };
	char *user = NULL, *pass = NULL;
	CHECK(image_access_credentials(&b, "docker.io", &user, &pass, &err) == 0 && user && strcmp(user, "user") == 0
	      && strcmp(pass, "pa:ss") == 0);
	free(user);
	free(pass);
	CHECK(image_access_credentials(&b, "other.example", &user, &pass, &err) == 0 && user == NULL);
	CHECK(image_access_credentials(&b, "reg.example:5000", &user, &pass, &err) < 0
	      && strstr(err->msg, "user:password"));
	rune_error_release(&err);
	b.creds = "a:b";
	CHECK(image_access_credentials(&b, "x", &user, &pass, &err) == 0 && strcmp(user, "a") == 0
	      && strcmp(pass, "b") == 0);
	free(user);
	free(pass);
	unlink(auth);
	free(auth);
}

/* Pipe text through reader stages; the error message or NULL. */
static const char *through(const void *data, size_t len, const char *digest, int64_t size, enum compression c,
                           char *out, size_t cap)
{
	char *path = xstrdup("/tmp/rune-unit-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || rune_write_all(fd, data, len) < 0)
		abort();
	lseek(fd, 0, SEEK_SET);
	unlink(path);
	free(path);
	struct reader *r =
	    image_reader_decompress(image_reader_digest(image_reader_fd(fd), digest, size, "blob"), c, "blob");
	rune_error_t err = NULL;
	size_t total = 0, got;
	const char *res = NULL;
	do {
		if (r->read(r, out + total, cap - total, &got, &err) < 0) {
			snprintf(errbuf, sizeof(errbuf), "%s", err->msg);
			rune_error_release(&err);
			res = errbuf;
			break;
		}
		total += got;
	} while (got > 0 && total < cap);
	out[total < cap ? total : cap - 1] = '\0';
	image_reader_free(r);
	return res;
}

static char *sha(const void *d, size_t n)
{
	struct digester *g = image_digester_new("sha256:");
	image_digester_update(g, d, n);
	char *s = image_digester_final(g);
	image_digester_free(g);
	return s;
}

static void test_streams(void)
{
	char out[256];
	/* two gzip members back to back are one stream */
	unsigned char gz[512];
	size_t glen = 0;
	for (int i = 0; i < 2; i++) {
		z_stream z = { 0 };
		deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
		z.next_in = (unsigned char *) (i ? "world" : "hello ");
		z.avail_in = i ? 5 : 6;
		z.next_out = gz + glen;
		z.avail_out = sizeof(gz) - glen;
		deflate(&z, Z_FINISH);
		glen += z.total_out;
		deflateEnd(&z);
	}
	char *d = sha(gz, glen);
	CHECK(through(gz, glen, d, glen, COMPRESSION_GZIP, out, sizeof(out)) == NULL
	      && strcmp(out, "hello world") == 0);
	CHECK(strstr(through(gz, glen - 3, d, glen, COMPRESSION_GZIP, out, sizeof(out)), "truncated"));
	CHECK(strstr(through(gz, glen, d, glen - 1, COMPRESSION_GZIP, out, sizeof(out)), "more than the"));
	gz[glen / 2] ^= 1;
	CHECK(through(gz, glen, d, glen, COMPRESSION_GZIP, out, sizeof(out)) != NULL); /* zlib or the digest */
	CHECK(strstr(through(gz, glen, d, glen, COMPRESSION_NONE, out, sizeof(out)), "digest mismatch"));
	free(d);
	unsigned char zs[256];
	size_t zlen = ZSTD_compress(zs, sizeof(zs), "zstd data", 9, 3);
	d = sha(zs, zlen);
	CHECK(through(zs, zlen, d, -1, COMPRESSION_ZSTD, out, sizeof(out)) == NULL && strcmp(out, "zstd data") == 0);
	/* a changed byte: the digest stage refuses it whatever zstd makes of it */
	zs[zlen / 2] ^= 0xff;
	CHECK(through(zs, zlen, d, -1, COMPRESSION_ZSTD, out, sizeof(out)) != NULL);
	free(d);
}

/* gzip of n bytes of data at level (zlib's deflate). */
static unsigned char *gzip_of(const unsigned char *data, size_t n, int level, size_t *len)
{
	z_stream z = { 0 };
	deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	size_t cap = deflateBound(&z, n);
	unsigned char *gz = xmalloc(cap);
	z.next_in = (unsigned char *) data;
	z.avail_in = n;
	z.next_out = gz;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*len = z.total_out;
	deflateEnd(&z);
	return gz;
}

/* Both inflaters (ISA-L's igzip where built in, and zlib) give the same bytes
 * of a stream spanning many reads, and refuse a wrong trailer (CRC-32, then
 * length) even when the digest stage is content with the bytes. */
static void test_inflaters(void)
{
	size_t n = 3 << 20, glen, cap = n + 1;
	unsigned char *data = xmalloc(n);
	char *out = xmalloc(cap);
	uint32_t x = 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (i / 4096) % 3 ? (unsigned char) ("layer text "[i % 11]) : (unsigned char) (x >> 24);
	}
	const char *inflaters[] = { "zlib", "isal" };
	for (int level = 1; level <= 9; level += 8) {
		unsigned char *gz = gzip_of(data, n, level, &glen);
		for (int k = 0; k < 2; k++) {
			setenv("RUNE_IMAGE_INFLATE", inflaters[k], 1);
			char *d = sha(gz, glen);
			CHECK(through(gz, glen, d, glen, COMPRESSION_GZIP, out, cap) == NULL
			      && memcmp(out, data, n) == 0);
			free(d);
			for (int field = 8; field >= 4; field -= 4) { /* trailer: CRC-32, then ISIZE */
				gz[glen - field] ^= 1;
				d = sha(gz, glen);
				const char *e = through(gz, glen, d, glen, COMPRESSION_GZIP, out, cap);
				CHECK(e && strstr(e, "gzip: incorrect") != NULL);
				free(d);
				gz[glen - field] ^= 1;
			}
		}
		free(gz);
	}
	unsetenv("RUNE_IMAGE_INFLATE");
	free(out);
	free(data);
}

int main(void)
{
	test_refs();
	test_manifests();
	test_registries_conf();
	test_streams();
	test_inflaters();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
