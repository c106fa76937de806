/* The TOML that init-data documents and the attestation agent's and CDH's
 * configurations use, parsed into JSON values: tables ([a], [a.b]), bare and
 * quoted keys, basic and literal strings (one- and multi-line), integers,
 * booleans and arrays of those. Anything else (dates, floats, inline tables,
 * arrays of tables, dotted keys) is refused with its line, never guessed. */
#include "toml.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "util.h"

struct parser {
	const char *p, *end, *what;
	int line;
	rune_error_t *err;
};

static int fail(struct parser *ps, const char *why)
{
	return rune_error(ps->err, 0, "%s: line %d: %s", ps->what, ps->line, why);
}

static void skip_blank(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* Blanks, a comment, then the end of the line (or of the document). */
static int end_of_line(struct parser *ps)
{
	skip_blank(ps);
	if (ps->p < ps->end && *ps->p == '#')
		while (ps->p < ps->end && *ps->p != '\n')
			ps->p++;
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p < ps->end && *ps->p != '\n')
		return fail(ps, "unexpected text after the value");
	if (ps->p < ps->end) {
		ps->p++;
		ps->line++;
	}
	return 0;
}

static void put_utf8(char **o, unsigned cp)
{
	unsigned char *u = (unsigned char *) *o;
	if (cp < 0x80) {
		*u++ = (unsigned char) cp;
	} else if (cp < 0x800) {
		*u++ = 0xc0 | (cp >> 6);
		*u++ = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		*u++ = 0xe0 | (cp >> 12);
		*u++ = 0x80 | ((cp >> 6) & 0x3f);
		*u++ = 0x80 | (cp & 0x3f);
	} else {
		*u++ = 0xf0 | (cp >> 18);
		*u++ = 0x80 | ((cp >> 12) & 0x3f);
		*u++ = 0x80 | ((cp >> 6) & 0x3f);
		*u++ = 0x80 | (cp & 0x3f);
	}
	*o = (char *) u;
}

/* A string starting at ps->p (at its opening quote). */
static int string(struct parser *ps, json_t **out)
{
	char q = *ps->p;
	bool multi = ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q;
	ps->p += multi ? 3 : 1;
	/* A newline right after the opening delimiter is not part of it. */
	if (multi && ps->p < ps->end && *ps->p == '\n') {
		ps->p++;
		ps->line++;
	} else if (multi && ps->end - ps->p >= 2 && ps->p[0] == '\r' && ps->p[1] == '\n') {
		ps->p += 2;
		ps->line++;
	}
	char *buf = xmalloc((size_t) (ps->end - ps->p) * 2 + 1), *o = buf;
	for (;;) {
		if (ps->p >= ps->end) {
			free(buf);
			return fail(ps, "unterminated string");
		}
		char c = *ps->p;
		if (c == q && !multi) {
			ps->p++;
			break;
		}
		if (c == q && ps->end - ps->p >= 3 && ps->p[1] == q && ps->p[2] == q) {
			/* Up to two quotes before the closing three belong to the text. */
			int run = 3;
			while (run < 5 && ps->p + run < ps->end && ps->p[run] == q)
				run++;
			for (int i = 3; i < run; i++)
				*o++ = q;
			ps->p += run;
			break;
		}
		if (c == '\n') {
			if (!multi) {
				free(buf);
				return fail(ps, "newline in a one-line string");
			}
			ps->line++;
		}
		if (c == '\\' && q == '"') {
			ps->p++;
			char e = ps->p < ps->end ? *ps->p : 0;
			unsigned cp = 0;
			int n = 0;
			switch (e) {
			case 'b':
				*o++ = '\b';
				break;
			case 't':
				*o++ = '\t';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case '"':
				*o++ = '"';
				break;
			case '\\':
				*o++ = '\\';
				break;
			case 'u':
				n = 4;
				break;
			case 'U':
				n = 8;
				break;
			case '\n':
				if (multi) { /* a line-ending backslash trims the break and following blanks */
					while (ps->p < ps->end && isspace((unsigned char) *ps->p)) {
						if (*ps->p == '\n')
							ps->line++;
						ps->p++;
					}
					continue;
				}
				/* fall through */
			default:
				free(buf);
				return fail(ps, "unknown escape in a string");
			}
			for (int i = 1; i <= n; i++) {
				char h = ps->p + i < ps->end ? ps->p[i] : 0;
				if (!isxdigit((unsigned char) h)) {
					free(buf);
					return fail(ps, "bad \\u escape");
				}
				cp = cp * 16
				     + (unsigned) (isdigit((unsigned char) h) ? h - '0' : (tolower(h) - 'a' + 10));
			}
			if (n) {
				if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0) {
					free(buf);
					return fail(ps, "\\u escape is not a Unicode scalar value (or is NUL)");
				}
				put_utf8(&o, cp);
			}
			ps->p += n + 1;
			continue;
		}
		if ((unsigned char) c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
			free(buf);
			return fail(ps, "control character in a string");
		}
		*o++ = c;
		ps->p++;
	}
	*out = json_stringn(buf, (size_t) (o - buf));
	free(buf);
	return *out ? 0 : fail(ps, "string is not UTF-8");
}

static int value(struct parser *ps, json_t **out, int depth);

static int array(struct parser *ps, json_t **out, int depth)
{
	json_t *a = json_array();
	ps->p++;
	for (;;) {
		/* Blanks, newlines and comments may sit anywhere between items. */
		while (ps->p < ps->end && (isspace((unsigned char) *ps->p) || *ps->p == '#')) {
			if (*ps->p == '#')
				while (ps->p < ps->end && *ps->p != '\n')
					ps->p++;
			else if (*ps->p++ == '\n')
				ps->line++;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			*out = a;
			return 0;
		}
		json_t *v = NULL;
		if (value(ps, &v, depth + 1) < 0) {
			json_decref(a);
			return -1;
		}
		json_array_append_new(a, v);
		while (ps->p < ps->end && (isspace((unsigned char) *ps->p))) {
			if (*ps->p++ == '\n')
				ps->line++;
		}
		if (ps->p < ps->end && *ps->p == ',')
			ps->p++;
		else if (!(ps->p < ps->end && *ps->p == ']')) {
			json_decref(a);
			return fail(ps, "expected , or ] in an array");
		}
	}
}

static int value(struct parser *ps, json_t **out, int depth)
{
	if (depth > 32)
		return fail(ps, "arrays nested too deep");
	if (ps->p >= ps->end)
		return fail(ps, "a key without a value");
	char c = *ps->p;
	if (c == '"' || c == '\'')
		return string(ps, out);
	if (c == '[')
		return array(ps, out, depth);
	if (c == '{')
		return fail(ps, "inline tables are not supported");
	size_t n = 0;
	while (ps->p + n < ps->end && (isalnum((unsigned char) ps->p[n]) || strchr("+-_.:", ps->p[n])))
		n++;
	if (n == 4 && strncmp(ps->p, "true", 4) == 0)
		*out = json_true();
	else if (n == 5 && strncmp(ps->p, "false", 5) == 0)
		*out = json_false();
	else {
		char num[32], *e = NULL;
		if (n == 0 || n >= sizeof(num))
			return fail(ps, "expected a string, integer, boolean or array");
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (ps->p[i] != '_')
				num[k++] = ps->p[i];
		num[k] = '\0';
		errno = 0;
		long long v = strtoll(num, &e, 10);
		if (*e || errno)
			return fail(ps, "not a value this parser reads (strings, integers, booleans, arrays)");
		*out = json_integer(v);
	}
	ps->p += n;
	return 0;
}

static int key(struct parser *ps, char **out)
{
	json_t *s = NULL;
	if (ps->p < ps->end && (*ps->p == '"' || *ps->p == '\'')) {
		if (string(ps, &s) < 0)
			return -1;
		*out = xstrdup(json_string_value(s));
		json_decref(s);
		return 0;
	}
	size_t n = 0;
	while (ps->p + n < ps->end && (isalnum((unsigned char) ps->p[n]) || ps->p[n] == '_' || ps->p[n] == '-'))
		n++;
	if (n == 0)
		return fail(ps, "expected a key");
	*out = xasprintf("%.*s", (int) n, ps->p);
	ps->p += n;
	return 0;
}

/* [a.b.c]: the table, made along the way; a name defined twice is an error. */
static int table_header(struct parser *ps, json_t *root, json_t **table)
{
	json_t *t = root;
	ps->p++;
	if (ps->p < ps->end && *ps->p == '[')
		return fail(ps, "arrays of tables are not supported");
	for (;;) {
		cleanup_free char *k = NULL;
		skip_blank(ps);
		if (key(ps, &k) < 0)
			return -1;
		json_t *next = json_object_get(t, k);
		if (next == NULL) {
			next = json_object();
			json_object_set_new(t, k, next);
		} else if (!json_is_object(next)) {
			return fail(ps, "a table name that is already a value");
		}
		t = next;
		skip_blank(ps);
		if (ps->p < ps->end && *ps->p == '.') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			break;
		}
		return fail(ps, "expected ] after a table name");
	}
	*table = t;
	return end_of_line(ps);
}

int attest_toml_parse(const char *doc, size_t len, const char *what, json_t **out, rune_error_t *err)
{
	struct parser ps = { .p = doc, .end = doc + len, .what = what, .line = 1, .err = err };
	json_t *root = json_object(), *table = root;
	while (ps.p < ps.end) {
		skip_blank(&ps);
		if (ps.p >= ps.end)
			break;
		int rc = 0;
		if (*ps.p == '#' || *ps.p == '\n' || *ps.p == '\r') {
			rc = end_of_line(&ps);
		} else if (*ps.p == '[') {
			rc = table_header(&ps, root, &table);
		} else {
			cleanup_free char *k = NULL;
			json_t *v = NULL;
			rc = key(&ps, &k);
			skip_blank(&ps);
			if (rc == 0 && ps.p < ps.end && *ps.p == '.')
				rc = fail(&ps, "dotted keys are not supported");
			if (rc == 0 && !(ps.p < ps.end && *ps.p == '='))
				rc = fail(&ps, "expected = after a key");
			if (rc == 0) {
				ps.p++;
				skip_blank(&ps);
				rc = value(&ps, &v, 0);
			}
			if (rc == 0 && json_object_get(table, k)) {
				json_decref(v);
				cleanup_free char *why = xasprintf("key \"%s\" defined twice", k);
				rc = fail(&ps, why);
			} else if (rc == 0) {
				json_object_set_new(table, k, v);
				rc = end_of_line(&ps);
			}
		}
		if (rc < 0) {
			json_decref(root);
			return -1;
		}
	}
	*out = root;
	return 0;
}
