#include "encoding.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static int b64_value(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static bool b64_decode(const char *s, size_t n, bool url, unsigned char **out, size_t *len)
{
	unsigned char *buf = xmalloc(n / 4 * 3 + 4);
	size_t o = 0, pad = 0;
	unsigned acc = 0, bits = 0, digits = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64_value(c, url);
		if (v < 0 || pad > 0)
			goto bad;
		acc = (acc << 6) | (unsigned) v;
		bits += 6;
		digits++;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (acc >> bits) & 0xff;
		}
	}
	/* A lone digit carries no byte; padding, when given, completes the quantum;
	 * left-over bits must be zero (canonical encodings only). */
	if (digits % 4 == 1 || pad > 2 || (pad > 0 && (digits + pad) % 4 != 0) || (acc & ((1u << bits) - 1)) != 0)
		goto bad;
	buf[o] = '\0';
	*out = buf;
	*len = o;
	return true;
bad:
	free(buf);
	return false;
}

bool rune_base64_decode(const char *s, size_t n, unsigned char **out, size_t *len)
{
	return b64_decode(s, n, false, out, len);
}

bool rune_base64url_decode(const char *s, size_t n, unsigned char **out, size_t *len)
{
	return b64_decode(s, n, true, out, len);
}

static char *b64_encode(const void *data, size_t n, bool url)
{
	const char *alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	                           : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char *s = xmalloc((n + 2) / 3 * 4 + 1), *o = s;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		*o++ = alphabet[(v >> 18) & 63];
		*o++ = alphabet[(v >> 12) & 63];
		/* base64url goes without padding, as JOSE writes it */
		if (i + 1 < n || !url)
			*o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		if (i + 2 < n || !url)
			*o++ = i + 2 < n ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return s;
}

char *rune_base64_encode(const void *data, size_t n)
{
	return b64_encode(data, n, false);
}

char *rune_base64url_encode(const void *data, size_t n)
{
	return b64_encode(data, n, true);
}

char *rune_hex_encode(const void *data, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	char *s = xmalloc(2 * n + 1);
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool rune_hex_decode(const char *s, unsigned char **out, size_t *len)
{
	size_t n = strlen(s);
	if (n % 2 != 0)
		return false;
	unsigned char *buf = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(buf);
			return false;
		}
		buf[i] = hi << 4 | lo;
	}
	buf[n / 2] = '\0';
	*out = buf;
	*len = n / 2;
	return true;
}
