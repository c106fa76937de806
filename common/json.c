#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "util.h"

int rune_json_parse(const char *buf, const char *what, yajl_val *out, rune_error_t *err)
{
	char ebuf[512] = "";
	yajl_val v = yajl_tree_parse(buf, ebuf, sizeof(ebuf));

	if (v == NULL) {
		/* yajl puts a multi-line excerpt in ebuf; keep the first line. */
		char *nl = strchr(ebuf, '\n');
		if (nl)
			*nl = '\0';
		return rune_error(err, 0, "%s: invalid JSON: %s", what, ebuf[0] ? ebuf : "parse error");
	}
	*out = v;
	return 0;
}

int rune_json_parse_file(const char *path, size_t max_bytes, yajl_val *out, rune_error_t *err)
{
	cleanup_free char *buf = NULL;
	size_t len;

	if (rune_read_file(path, max_bytes, &buf, &len, err) < 0)
		return -1;
	return rune_json_parse(buf, path, out, err);
}

yajl_val rune_json_get(yajl_val obj, const char *key)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

static const char *type_name(yajl_val v)
{
	if (YAJL_IS_STRING(v))
		return "a string";
	if (YAJL_IS_NUMBER(v))
		return "a number";
	if (YAJL_IS_OBJECT(v))
		return "an object";
	if (YAJL_IS_ARRAY(v))
		return "an array";
	if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		return "a boolean";
	return "null";
}

static int wrong_type(yajl_val v, const char *where, const char *want, rune_error_t *err)
{
	return rune_error(err, EINVAL, "%s: expected %s, found %s", where, want, type_name(v));
}

int rune_json_read_string(yajl_val v, const char *where, char **out, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (!YAJL_IS_STRING(v))
		return wrong_type(v, where, "a string", err);
	free(*out);
	*out = xstrdup(v->u.string);
	return 0;
}

int rune_json_read_bool(yajl_val v, const char *where, bool *out, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return wrong_type(v, where, "a boolean", err);
	*out = YAJL_IS_TRUE(v);
	return 0;
}

int rune_json_read_int64(yajl_val v, const char *where, int64_t *out, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (!YAJL_IS_INTEGER(v))
		return wrong_type(v, where, "an integer", err);
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

int rune_json_read_uint64(yajl_val v, const char *where, uint64_t *out, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	/* yajl keeps the text of every number: parse it ourselves so values above
	 * INT64_MAX (e.g. unlimited rlimits) survive. */
	if (!YAJL_IS_NUMBER(v) || v->u.number.r == NULL || v->u.number.r[0] == '-')
		return wrong_type(v, where, "a non-negative integer", err);
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v->u.number.r, &end, 10);
	if (errno != 0 || *end != '\0')
		return rune_error(err, EINVAL, "%s: '%s' is not a valid unsigned integer", where, v->u.number.r);
	*out = n;
	return 0;
}

int rune_json_expect_object(yajl_val v, const char *where, rune_error_t *err)
{
	if (v != NULL && !YAJL_IS_OBJECT(v))
		return wrong_type(v, where, "an object", err);
	return 0;
}

int rune_json_expect_array(yajl_val v, const char *where, rune_error_t *err)
{
	if (v != NULL && !YAJL_IS_ARRAY(v))
		return wrong_type(v, where, "an array", err);
	return 0;
}

int rune_json_object_fields(yajl_val obj, const char *where, const struct rune_json_field *fields, size_t n,
                            rune_error_t *err)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return wrong_type(obj, where, "an object", err);
	for (size_t f = 0; f < n; f++)
		*fields[f].value = NULL;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *key = obj->u.object.keys[i];
		size_t f = 0;
		while (f < n && strcmp(fields[f].name, key) != 0)
			f++;
		if (f == n)
			return rune_error(err, 0, "%s: unknown field \"%s\"", where, key),
			       rune_error_set_status(err, EINVAL);
		/* yajl keeps duplicate keys; JSON parsers disagree on which wins, so neither does. */
		if (*fields[f].value != NULL)
			return rune_error(err, 0, "%s: field \"%s\" appears twice", where, key),
			       rune_error_set_status(err, EINVAL);
		*fields[f].value = obj->u.object.values[i];
	}
	return 0;
}

int rune_json_read_strv(yajl_val v, const char *where, char ***out, size_t *n, rune_error_t *err)
{
	if (v == NULL)
		return 0;
	if (!YAJL_IS_ARRAY(v))
		return wrong_type(v, where, "an array of strings", err);
	size_t len = v->u.array.len;
	char **vec = xcalloc(len + 1, sizeof(char *));
	for (size_t i = 0; i < len; i++) {
		yajl_val s = v->u.array.values[i];
		if (!YAJL_IS_STRING(s)) {
			cleanup_strvp(&vec);
			return rune_error(err, EINVAL, "%s[%zu]: expected a string, found %s", where, i, type_name(s));
		}
		vec[i] = xstrdup(s->u.string);
	}
	cleanup_strvp(out);
	*out = vec;
	if (n)
		*n = len;
	return 0;
}

yajl_gen rune_json_gen_new(bool pretty, const char *indent)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	if (g == NULL)
		rune_oom();
	if (pretty) {
		yajl_gen_config(g, yajl_gen_beautify, 1);
		yajl_gen_config(g, yajl_gen_indent_string, indent ? indent : "  ");
	}
	/* JSON allows "/" unescaped; paths read better that way. */
	yajl_gen_config(g, yajl_gen_escape_solidus, 0);
	return g;
}

void rune_json_gen_str(yajl_gen g, const char *s)
{
	if (s == NULL) {
		yajl_gen_null(g);
		return;
	}
	yajl_gen_string(g, (const unsigned char *) s, strlen(s));
}

void rune_json_gen_key(yajl_gen g, const char *key)
{
	rune_json_gen_str(g, key);
}

void rune_json_gen_kv_str(yajl_gen g, const char *key, const char *val)
{
	rune_json_gen_key(g, key);
	rune_json_gen_str(g, val ? val : "");
}

void rune_json_gen_kv_int(yajl_gen g, const char *key, long long val)
{
	rune_json_gen_key(g, key);
	yajl_gen_integer(g, val);
}

void rune_json_gen_kv_bool(yajl_gen g, const char *key, bool val)
{
	rune_json_gen_key(g, key);
	yajl_gen_bool(g, val);
}

void rune_json_gen_strv(yajl_gen g, const char *const *v)
{
	yajl_gen_array_open(g);
	for (; v && *v; v++)
		rune_json_gen_str(g, *v);
	yajl_gen_array_close(g);
}

void rune_json_gen_print(yajl_gen g, FILE *f)
{
	const unsigned char *buf;
	size_t len;
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, f);
	if (len == 0 || buf[len - 1] != '\n')
		fputc('\n', f);
	yajl_gen_free(g);
}

void rune_json_gen_value(yajl_gen g, yajl_val v)
{
	if (v == NULL || YAJL_IS_NULL(v)) {
		yajl_gen_null(g);
	} else if (YAJL_IS_STRING(v)) {
		rune_json_gen_str(g, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		yajl_gen_bool(g, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_ARRAY(v)) {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < v->u.array.len; i++)
			rune_json_gen_value(g, v->u.array.values[i]);
		yajl_gen_array_close(g);
	} else if (YAJL_IS_OBJECT(v)) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < v->u.object.len; i++) {
			rune_json_gen_key(g, v->u.object.keys[i]);
			rune_json_gen_value(g, v->u.object.values[i]);
		}
		yajl_gen_map_close(g);
	}
}
