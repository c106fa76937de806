#include "stream.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "cleanup.h"
#include "util.h"

#define CHUNK (1 << 17)

struct digester {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	const char *algo;
};

struct digester *image_digester_new(const char *digest)
{
	const EVP_MD *md = NULL;
	const char *algo = NULL;
	if (digest && strncmp(digest, "sha256:", 7) == 0) {
		md = EVP_sha256();
		algo = "sha256";
	} else if (digest && strncmp(digest, "sha512:", 7) == 0) {
		md = EVP_sha512();
		algo = "sha512";
	}
	if (md == NULL)
		return NULL;
	struct digester *d = xcalloc(1, sizeof(*d));
	d->ctx = EVP_MD_CTX_new();
	if (d->ctx == NULL)
		rune_oom();
	d->md = md;
	d->algo = algo;
	EVP_DigestInit_ex(d->ctx, md, NULL);
	return d;
}

void image_digester_update(struct digester *d, const void *buf, size_t n)
{
	EVP_DigestUpdate(d->ctx, buf, n);
}

char *image_digester_final(struct digester *d)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_DigestFinal_ex(d->ctx, h, &len);
	char *out = xmalloc(strlen(d->algo) + 2 + 2 * len);
	char *o = out + sprintf(out, "%s:", d->algo);
	for (unsigned i = 0; i < len; i++)
		o += sprintf(o, "%02x", h[i]);
	return out;
}

void image_digester_reset(struct digester *d)
{
	EVP_DigestInit_ex(d->ctx, d->md, NULL);
}

void image_digester_free(struct digester *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

int image_digest_check(const void *data, size_t len, const char *want, const char *what, rune_error_t *err)
{
	struct digester *d = image_digester_new(want);
	if (d == NULL)
		return rune_error(err, EINVAL, "%s: unsupported digest %s", what, want);
	image_digester_update(d, data, len);
	cleanup_free char *got = image_digester_final(d);
	image_digester_free(d);
	if (strcmp(got, want) != 0)
		return rune_error(err, EBADMSG, "%s: digest mismatch: expected %s, got %s", what, want, got);
	return 0;
}

void image_reader_free(struct reader *r)
{
	if (r)
		r->free(r);
}

int image_reader_drain(struct reader *r, rune_error_t *err)
{
	char buf[CHUNK];
	size_t got;
	do {
		if (r->read(r, buf, sizeof(buf), &got, err) < 0)
			return -1;
	} while (got > 0);
	return 0;
}

struct fd_reader {
	struct reader r;
	int fd;
};

static int fd_read(struct reader *r, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	struct fd_reader *f = (struct fd_reader *) r;
	ssize_t n;
	do
		n = read(f->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return rune_error(err, errno, "read");
	*got = n;
	return 0;
}

static void fd_free(struct reader *r)
{
	struct fd_reader *f = (struct fd_reader *) r;
	close(f->fd);
	free(f);
}

struct reader *image_reader_fd(int fd)
{
	struct fd_reader *f = xcalloc(1, sizeof(*f));
	f->r.read = fd_read;
	f->r.free = fd_free;
	f->fd = fd;
	return &f->r;
}

struct digest_reader {
	struct reader r;
	struct reader *src;
	struct digester *d;
	char *want, *what;
	int64_t size, seen;
	bool done;
};

static int digest_read(struct reader *r, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	struct digest_reader *d = (struct digest_reader *) r;
	*got = 0;
	if (d->done)
		return 0;
	if (d->src->read(d->src, buf, cap, got, err) < 0)
		return rune_error_wrap(err, "%s", d->what);
	d->seen += *got;
	if (d->size >= 0 && d->seen > d->size)
		return rune_error(err, EBADMSG, "%s: more than the %lld bytes its descriptor names", d->what,
		                  (long long) d->size);
	if (*got > 0) {
		image_digester_update(d->d, buf, *got);
		return 0;
	}
	d->done = true;
	if (d->size >= 0 && d->seen != d->size)
		return rune_error(err, EBADMSG, "%s: truncated: %lld bytes, its descriptor names %lld", d->what,
		                  (long long) d->seen, (long long) d->size);
	cleanup_free char *h = image_digester_final(d->d);
	if (strcmp(h, d->want) != 0)
		return rune_error(err, EBADMSG, "%s: digest mismatch: expected %s, got %s", d->what, d->want, h);
	return 0;
}

static void digest_free(struct reader *r)
{
	struct digest_reader *d = (struct digest_reader *) r;
	image_reader_free(d->src);
	image_digester_free(d->d);
	free(d->want);
	free(d->what);
	free(d);
}

struct reader *image_reader_digest(struct reader *src, const char *digest, int64_t size, const char *what)
{
	struct digest_reader *d = xcalloc(1, sizeof(*d));
	d->r.read = digest_read;
	d->r.free = digest_free;
	d->src = src;
	d->d = image_digester_new(digest);
	d->want = xstrdup(digest);
	d->what = xstrdup(what);
	d->size = size;
	if (d->d == NULL) {
		/* digest_validate ran on every digest before: cannot happen. */
		abort();
	}
	return &d->r;
}

struct decomp_reader {
	struct reader r;
	struct reader *src;
	enum compression c;
	char *what;
	unsigned char *in;
	size_t in_len, in_pos;
	bool src_eof, stream_end, started;
	z_stream z;
	ZSTD_DStream *zs;
};

/* Refill the input buffer once it is consumed. */
static int refill(struct decomp_reader *d, rune_error_t *err)
{
	if (d->in_pos < d->in_len || d->src_eof)
		return 0;
	size_t got;
	if (d->src->read(d->src, d->in, CHUNK, &got, err) < 0)
		return -1;
	d->in_len = got;
	d->in_pos = 0;
	if (got == 0)
		d->src_eof = true;
	return 0;
}

static int gzip_read(struct decomp_reader *d, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	*got = 0;
	while (*got == 0) {
		if (refill(d, err) < 0)
			return -1;
		if (d->in_pos == d->in_len && d->src_eof) {
			if (!d->stream_end)
				return rune_error(err, EBADMSG, "%s: gzip stream truncated", d->what);
			return 0;
		}
		if (d->stream_end) {
			/* Another gzip member follows (concatenated gzip is valid). */
			inflateReset(&d->z);
			d->stream_end = false;
		}
		d->z.next_in = d->in + d->in_pos;
		d->z.avail_in = d->in_len - d->in_pos;
		d->z.next_out = buf;
		d->z.avail_out = cap;
		int zr = inflate(&d->z, Z_NO_FLUSH);
		d->in_pos = d->in_len - d->z.avail_in;
		*got = cap - d->z.avail_out;
		if (zr == Z_STREAM_END)
			d->stream_end = true;
		else if (zr != Z_OK && !(zr == Z_BUF_ERROR && *got == 0 && d->z.avail_in == 0))
			return rune_error(err, EBADMSG, "%s: gzip: %s", d->what, d->z.msg ? d->z.msg : "corrupt data");
	}
	return 0;
}

static int zstd_read(struct decomp_reader *d, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	*got = 0;
	while (*got == 0) {
		if (refill(d, err) < 0)
			return -1;
		if (d->in_pos == d->in_len && d->src_eof) {
			if (d->started && !d->stream_end)
				return rune_error(err, EBADMSG, "%s: zstd stream truncated", d->what);
			return 0;
		}
		ZSTD_inBuffer in = { d->in, d->in_len, d->in_pos };
		ZSTD_outBuffer out = { buf, cap, 0 };
		size_t zr = ZSTD_decompressStream(d->zs, &out, &in);
		d->in_pos = in.pos;
		*got = out.pos;
		d->started = true;
		if (ZSTD_isError(zr))
			return rune_error(err, EBADMSG, "%s: zstd: %s", d->what, ZSTD_getErrorName(zr));
		d->stream_end = zr == 0; /* a frame ended; another may follow */
	}
	return 0;
}

static int decomp_read(struct reader *r, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	struct decomp_reader *d = (struct decomp_reader *) r;
	if (d->c == COMPRESSION_GZIP)
		return gzip_read(d, buf, cap, got, err);
	if (d->c == COMPRESSION_ZSTD)
		return zstd_read(d, buf, cap, got, err);
	return d->src->read(d->src, buf, cap, got, err);
}

static void decomp_free(struct reader *r)
{
	struct decomp_reader *d = (struct decomp_reader *) r;
	if (d->c == COMPRESSION_GZIP)
		inflateEnd(&d->z);
	if (d->zs)
		ZSTD_freeDStream(d->zs);
	image_reader_free(d->src);
	free(d->in);
	free(d->what);
	free(d);
}

struct reader *image_reader_decompress(struct reader *src, enum compression c, const char *what)
{
	struct decomp_reader *d = xcalloc(1, sizeof(*d));
	d->r.read = decomp_read;
	d->r.free = decomp_free;
	d->src = src;
	d->c = c;
	d->what = xstrdup(what);
	d->in = xmalloc(CHUNK);
	if (c == COMPRESSION_GZIP && inflateInit2(&d->z, 15 + 16) != Z_OK)
		rune_oom();
	if (c == COMPRESSION_ZSTD) {
		d->zs = ZSTD_createDStream();
		if (d->zs == NULL)
			rune_oom();
		ZSTD_initDStream(d->zs);
	}
	return &d->r;
}

struct decrypt_reader {
	struct reader r;
	struct reader *src;
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
	unsigned char want[32];
	char *what;
	bool done;
};

static int decrypt_read(struct reader *r, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	struct decrypt_reader *d = (struct decrypt_reader *) r;
	*got = 0;
	if (d->done)
		return 0;
	if (cap > INT_MAX)
		cap = INT_MAX;
	if (d->src->read(d->src, buf, cap, got, err) < 0)
		return -1;
	if (*got > 0) {
		/* The HMAC is over the ciphertext; CTR decrypts in place. */
		int out = 0;
		if (EVP_MAC_update(d->mac, buf, *got) != 1
		    || EVP_DecryptUpdate(d->cipher, buf, &out, buf, (int) *got) != 1 || (size_t) out != *got)
			return rune_error(err, 0, "%s: decryption failed (OpenSSL)", d->what);
		return 0;
	}
	d->done = true;
	unsigned char h[32];
	size_t n = 0;
	if (EVP_MAC_final(d->mac, h, &n, sizeof(h)) != 1 || n != sizeof(h))
		return rune_error(err, 0, "%s: HMAC failed (OpenSSL)", d->what);
	if (CRYPTO_memcmp(h, d->want, sizeof(h)) != 0)
		return rune_error(err, 0, "%s: HMAC mismatch: the ciphertext or its pubopts were altered", d->what);
	return 0;
}

static void decrypt_free(struct reader *r)
{
	struct decrypt_reader *d = (struct decrypt_reader *) r;
	image_reader_free(d->src);
	EVP_CIPHER_CTX_free(d->cipher); /* wipes the key schedule */
	EVP_MAC_CTX_free(d->mac);
	free(d->what);
	free(d);
}

struct reader *image_reader_decrypt(struct reader *src, const unsigned char key[32], const unsigned char nonce[16],
                                    const unsigned char hmac[32], const char *what)
{
	struct decrypt_reader *d = xcalloc(1, sizeof(*d));
	d->r.read = decrypt_read;
	d->r.free = decrypt_free;
	d->src = src;
	d->what = xstrdup(what);
	memcpy(d->want, hmac, sizeof(d->want));
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string("digest", (char *) "SHA256", 0), OSSL_PARAM_END };
	d->cipher = EVP_CIPHER_CTX_new();
	d->mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	/* AES-256-CTR: the 16-byte nonce is the whole initial counter block. */
	if (d->cipher == NULL || d->mac == NULL
	    || EVP_DecryptInit_ex(d->cipher, EVP_aes_256_ctr(), NULL, key, nonce) != 1
	    || EVP_MAC_init(d->mac, key, 32, params) != 1)
		rune_oom();
	return &d->r;
}
