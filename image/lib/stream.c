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
#ifdef RUNE_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

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

#ifdef RUNE_HAVE_ISAL
struct gzip_header {
	enum { GZH_FIXED, GZH_XLEN, GZH_EXTRA, GZH_NAME, GZH_COMMENT, GZH_HCRC, GZH_DONE } state;
	unsigned char fixed[10], flags;
	size_t got, left;
	uint32_t crc;
	unsigned hcrc;
};
#endif

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
#ifdef RUNE_HAVE_ISAL
	struct inflate_state *igz; /* gzip through ISA-L; NULL: through zlib */
	struct gzip_header gzh;    /* the member's header, parsed as it comes */
#endif
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

/* Input for the next step of a gzip stream: -1 on an error (a stream cut
 * inside a member is one), 1 once it ended cleanly, 0 to go on. */
static int gzip_input(struct decomp_reader *d, rune_error_t *err)
{
	if (refill(d, err) < 0)
		return -1;
	if (d->in_pos == d->in_len && d->src_eof)
		return d->stream_end ? 1 : rune_error(err, EBADMSG, "%s: gzip stream truncated", d->what);
	return 0;
}

static int gzip_read(struct decomp_reader *d, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	*got = 0;
	while (*got == 0) {
		int in = gzip_input(d, err);
		if (in != 0)
			return in < 0 ? -1 : 0;
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

#ifdef RUNE_HAVE_ISAL
static const char *igzip_strerror(int rc)
{
	switch (rc) {
	case ISAL_INVALID_BLOCK:
		return "invalid block type";
	case ISAL_INVALID_SYMBOL:
		return "invalid code";
	case ISAL_INVALID_LOOKBACK:
		return "invalid distance too far back";
	case ISAL_INCORRECT_CHECKSUM:
		return "incorrect data check";
	default:
		return "corrupt data";
	}
}

/* Parse a gzip member's header (RFC 1952 2.3) as its bytes arrive, from
 * p[0..n): *used of them consumed. 1 once it is complete, 0 for more, -1 on
 * a bad one (*msg says what, in zlib's words). ISA-L's own header parser
 * (ISA-L 2.30) reports a correct header CRC (FHCRC) as wrong when the header
 * arrives in more than one piece — the differential fuzz target found it —
 * so igzip gets only the deflate data and the trailer. */
static int gzip_header_feed(struct gzip_header *h, const unsigned char *p, size_t n, size_t *used, const char **msg)
{
	size_t i = 0;
	for (; i < n && h->state != GZH_DONE; i++) {
		unsigned char b = p[i];
		if (h->state != GZH_HCRC)
			h->crc = (uint32_t) crc32(h->crc, &b, 1);
		switch (h->state) {
		case GZH_FIXED:
			h->fixed[h->got++] = b;
			if (h->got < sizeof(h->fixed))
				continue;
			*used = i + 1;
			if (h->fixed[0] != 0x1f || h->fixed[1] != 0x8b)
				return *msg = "incorrect header check", -1;
			if (h->fixed[2] != 8)
				return *msg = "unknown compression method", -1;
			if (h->fixed[3] & 0xe0)
				return *msg = "unknown header flags set", -1;
			h->flags = h->fixed[3];
			h->got = 0;
			h->state = GZH_XLEN;
			break;
		case GZH_XLEN:
			h->left |= (size_t) b << (8 * h->got++);
			if (h->got == 2)
				h->state = GZH_EXTRA;
			break;
		case GZH_EXTRA:
			h->left--;
			break;
		case GZH_NAME:
		case GZH_COMMENT:
			if (b == 0)
				h->state++, h->got = 0; /* (got counts HCRC's bytes next) */
			break;
		case GZH_HCRC:
			h->hcrc |= (unsigned) b << (8 * h->got++);
			if (h->got == 2 && h->hcrc != (h->crc & 0xffff))
				return *used = i + 1, *msg = "header crc mismatch", -1;
			break;
		case GZH_DONE:
			break;
		}
		/* skip the optional parts the flags do not announce */
		for (;;) {
			if (h->state == GZH_XLEN && !(h->flags & 0x04))
				h->state = GZH_NAME;
			else if (h->state == GZH_EXTRA && (!(h->flags & 0x04) || h->left == 0))
				h->state = GZH_NAME;
			else if (h->state == GZH_NAME && !(h->flags & 0x08))
				h->state = GZH_COMMENT;
			else if (h->state == GZH_COMMENT && !(h->flags & 0x10))
				h->state = GZH_HCRC, h->got = 0;
			else if (h->state == GZH_HCRC && (!(h->flags & 0x02) || h->got == 2))
				h->state = GZH_DONE;
			else
				break;
		}
	}
	*used = i;
	return h->state == GZH_DONE;
}

/* gzip_read's twin through ISA-L's igzip, which inflates two to three times
 * as fast as zlib on the same core. The header is ours (above); igzip checks
 * the deflate data and the trailer's CRC-32 and length (NO_HDR_VER). A
 * member's end is ISAL_BLOCK_FINISH, its unused input left at next_in for
 * the next member. */
static int igzip_read(struct decomp_reader *d, void *buf, size_t cap, size_t *got, rune_error_t *err)
{
	*got = 0;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	while (*got == 0) {
		int in = gzip_input(d, err);
		if (in != 0)
			return in < 0 ? -1 : 0;
		if (d->stream_end) {
			/* Another gzip member follows (concatenated gzip is valid). */
			memset(&d->gzh, 0, sizeof(d->gzh));
			d->stream_end = false;
		}
		if (d->gzh.state != GZH_DONE) {
			const char *msg = NULL;
			size_t used = 0;
			int rc = gzip_header_feed(&d->gzh, d->in + d->in_pos, d->in_len - d->in_pos, &used, &msg);
			d->in_pos += used;
			if (rc < 0)
				return rune_error(err, EBADMSG, "%s: gzip: %s", d->what, msg);
			if (rc == 0)
				continue;
			isal_inflate_reset(d->igz);
			d->igz->crc_flag = ISAL_GZIP_NO_HDR_VER;
		}
		d->igz->next_in = d->in + d->in_pos;
		d->igz->avail_in = (uint32_t) (d->in_len - d->in_pos);
		d->igz->next_out = buf;
		d->igz->avail_out = (uint32_t) cap;
		int rc = isal_inflate(d->igz);
		d->in_pos = d->in_len - d->igz->avail_in;
		*got = cap - d->igz->avail_out;
		if (rc < 0)
			return rune_error(err, EBADMSG, "%s: gzip: %s", d->what, igzip_strerror(rc));
		if (d->igz->block_state == ISAL_BLOCK_FINISH)
			d->stream_end = true;
	}
	return 0;
}
#endif

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
#ifdef RUNE_HAVE_ISAL
	if (d->igz)
		return igzip_read(d, buf, cap, got, err);
#endif
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
#ifdef RUNE_HAVE_ISAL
	free(d->igz);
#endif
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
#ifdef RUNE_HAVE_ISAL
	/* RUNE_IMAGE_INFLATE=zlib: zlib even where ISA-L is built in (the
	 * benchmark and the tests compare the two). */
	const char *inflater = getenv("RUNE_IMAGE_INFLATE");
	if (c == COMPRESSION_GZIP && !(inflater && strcmp(inflater, "zlib") == 0)) {
		d->igz = xmalloc(sizeof(*d->igz));
		isal_inflate_init(d->igz);
	}
#endif
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
