/* RFC 8785 JSON Canonicalization Scheme: members sorted by the UTF-16 code
 * units of their names, no whitespace, strings with the minimal escapes,
 * numbers as ECMAScript's Number.prototype.toString writes IEEE doubles. The
 * KBS protocol hashes this form of {additional-evidence, nonce, tee-pubkey}
 * into the report data, so one differing byte fails attestation. */
#include "jcs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* ECMAScript Number::toString(10) (ECMA-262 §6.1.6.1.20) for a finite double:
 * the shortest digits that round-trip, then plain or exponent form. */
int attest_jcs_number(double v, char out[32])
{
	if (!isfinite(v))
		return -1;
	if (v == 0) {
		strcpy(out, "0");
		return 0;
	}
	char sci[40], digits[20];
	int k = 0, exp10 = 0;
	for (int p = 1; p <= 17; p++) {
		snprintf(sci, sizeof(sci), "%.*e", p - 1, fabs(v));
		if (strtod(sci, NULL) == fabs(v))
			break;
	}
	/* sci is "d.ddde±XX": collect the digits and the exponent. */
	for (const char *s = sci; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			digits[k++] = *s;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	exp10 = atoi(strchr(sci, 'e') + 1);
	int n = exp10 + 1; /* the decimal point sits after n digits */
	char *o = out;
	if (v < 0)
		*o++ = '-';
	if (k <= n && n <= 21) {
		o += sprintf(o, "%s", digits);
		for (int i = 0; i < n - k; i++)
			*o++ = '0';
		*o = '\0';
	} else if (0 < n && n <= 21) {
		o += sprintf(o, "%.*s.%s", n, digits, digits + n);
	} else if (-6 < n && n <= 0) {
		o += sprintf(o, "0.");
		for (int i = 0; i < -n; i++)
			*o++ = '0';
		sprintf(o, "%s", digits);
	} else {
		o += sprintf(o, "%c", digits[0]);
		if (k > 1)
			o += sprintf(o, ".%s", digits + 1);
		sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
	}
	return 0;
}

static void string(struct buf *b, const char *s, size_t n)
{
	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		char esc[8];
		switch (c) {
		case '"':
			puts_(b, "\\\"");
			break;
		case '\\':
			puts_(b, "\\\\");
			break;
		case '\b':
			puts_(b, "\\b");
			break;
		case '\f':
			puts_(b, "\\f");
			break;
		case '\n':
			puts_(b, "\\n");
			break;
		case '\r':
			puts_(b, "\\r");
			break;
		case '\t':
			puts_(b, "\\t");
			break;
		default:
			if (c < 0x20) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				puts_(b, esc);
			} else {
				put(b, (const char *) &c, 1);
			}
		}
	}
	put(b, "\"", 1);
}

/* Decode one UTF-8 sequence (jansson has validated it) into UTF-16 units. */
static size_t utf16_units(const unsigned char *s, size_t n, size_t *i, unsigned u[2])
{
	unsigned c = s[*i], cp;
	int extra = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
	cp = extra == 0 ? c : extra == 1 ? (c & 0x1f) : extra == 2 ? (c & 0x0f) : (c & 0x07);
	for (int j = 1; j <= extra && *i + j < n; j++)
		cp = (cp << 6) | (s[*i + j] & 0x3f);
	*i += (size_t) extra + 1;
	if (cp < 0x10000) {
		u[0] = cp;
		return 1;
	}
	cp -= 0x10000;
	u[0] = 0xd800 + (cp >> 10);
	u[1] = 0xdc00 + (cp & 0x3ff);
	return 2;
}

static int utf16_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *) a, *y = (const unsigned char *) b;
	size_t nx = strlen(a), ny = strlen(b), i = 0, j = 0, ux = 0, uy = 0, px = 0, py = 0;
	unsigned bx[2], by[2];
	for (;;) {
		if (px == ux) {
			if (i >= nx)
				return (j < ny || py < uy) ? -1 : 0;
			ux = utf16_units(x, nx, &i, bx);
			px = 0;
		}
		if (py == uy) {
			if (j >= ny)
				return 1;
			uy = utf16_units(y, ny, &j, by);
			py = 0;
		}
		if (bx[px] != by[py])
			return bx[px] < by[py] ? -1 : 1;
		px++;
		py++;
	}
}

static int key_cmp(const void *a, const void *b)
{
	return utf16_cmp(*(const char *const *) a, *(const char *const *) b);
}

static int value(struct buf *b, const json_t *v, int depth, rune_error_t *err)
{
	char num[32];
	if (depth > 64)
		return rune_error(err, 0, "JSON nested deeper than 64 levels");
	switch (json_typeof(v)) {
	case JSON_NULL:
		puts_(b, "null");
		return 0;
	case JSON_TRUE:
		puts_(b, "true");
		return 0;
	case JSON_FALSE:
		puts_(b, "false");
		return 0;
	case JSON_STRING:
		string(b, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
	case JSON_REAL:
		/* I-JSON numbers are doubles: a large integer becomes its double. */
		if (attest_jcs_number(json_number_value(v), num) < 0)
			return rune_error(err, 0, "a number JSON cannot carry");
		puts_(b, num);
		return 0;
	case JSON_ARRAY: {
		put(b, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				put(b, ",", 1);
			if (value(b, json_array_get(v, i), depth + 1, err) < 0)
				return -1;
		}
		put(b, "]", 1);
		return 0;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
		const char *k;
		json_t *m;
		json_object_foreach((json_t *) v, k, m) keys[i++] = k;
		qsort(keys, n, sizeof(*keys), key_cmp);
		put(b, "{", 1);
		int rc = 0;
		for (i = 0; i < n && rc == 0; i++) {
			if (i)
				put(b, ",", 1);
			string(b, keys[i], strlen(keys[i]));
			put(b, ":", 1);
			rc = value(b, json_object_get(v, keys[i]), depth + 1, err);
		}
		free(keys);
		put(b, "}", 1);
		return rc;
	}
	}
	return rune_error(err, 0, "unknown JSON type");
}

int attest_jcs(const json_t *v, char **out, size_t *len, rune_error_t *err)
{
	struct buf b = { 0 };
	if (value(&b, v, 0, err) < 0) {
		free(b.p);
		return rune_error_wrap(err, "RFC 8785 canonical form");
	}
	*out = b.p ? b.p : xstrdup("");
	if (len)
		*len = b.len;
	return 0;
}

int attest_jcs_text(const char *json, size_t n, char **out, size_t *len, rune_error_t *err)
{
	json_error_t je;
	/* I-JSON numbers are doubles, integers of any length too (7e20 prints as 700000000000000000000) */
	json_t *v = json_loadb(
	    json, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &je);
	if (v == NULL)
		return rune_error(err, 0, "RFC 8785 canonical form: not I-JSON: %s at line %d column %d", je.text,
		                  je.line, je.column);
	int rc = attest_jcs(v, out, len, err);
	json_decref(v);
	return rc;
}
