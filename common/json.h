/* JSON reading (yajl tree) with errors that name the file and field, and small
 * helpers over yajl_gen for writing. */
#ifndef RUNE_JSON_H
#define RUNE_JSON_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "error.h"

/* Parse a NUL-terminated buffer; `what` names the source in errors. */
int rune_json_parse(const char *buf, const char *what, yajl_val *out, rune_error_t *err);

/* Read and parse a file of at most max_bytes. */
int rune_json_parse_file(const char *path, size_t max_bytes, yajl_val *out, rune_error_t *err);

/* Member `key` of object `obj`, or NULL when absent or obj is not an object. */
yajl_val rune_json_get(yajl_val obj, const char *key);

/* Typed readers: absent (NULL) leaves *out untouched and succeeds; a wrong type
 * fails naming `where` (e.g. "process.args[2]"). */
int rune_json_read_string(yajl_val v, const char *where, char **out, rune_error_t *err);
int rune_json_read_bool(yajl_val v, const char *where, bool *out, rune_error_t *err);
int rune_json_read_int64(yajl_val v, const char *where, int64_t *out, rune_error_t *err);
int rune_json_read_uint64(yajl_val v, const char *where, uint64_t *out, rune_error_t *err);
/* Array of strings into a NULL-terminated vector (count in *n if n != NULL). */
int rune_json_read_strv(yajl_val v, const char *where, char ***out, size_t *n, rune_error_t *err);
/* Fails unless v is NULL or an object / array. */
int rune_json_expect_object(yajl_val v, const char *where, rune_error_t *err);
int rune_json_expect_array(yajl_val v, const char *where, rune_error_t *err);

/* One member an object may have, for rune_json_object_fields. */
struct rune_json_field {
	const char *name;
	yajl_val *value; /* set to the member's value, or left NULL when absent */
};
/* Read an object strictly, as security configuration wants it: obj must be an
 * object, every member one of fields, none given twice. `where` names obj in
 * errors ("policy.json: default[0]"). */
int rune_json_object_fields(yajl_val obj, const char *where, const struct rune_json_field *fields, size_t n,
                            rune_error_t *err);

/* yajl_gen helpers; all ignore yajl's status (only memory errors, fatal). */
yajl_gen rune_json_gen_new(bool pretty, const char *indent);
void rune_json_gen_key(yajl_gen g, const char *key);
void rune_json_gen_str(yajl_gen g, const char *s);
void rune_json_gen_kv_str(yajl_gen g, const char *key, const char *val);
void rune_json_gen_kv_int(yajl_gen g, const char *key, long long val);
void rune_json_gen_kv_bool(yajl_gen g, const char *key, bool val);
void rune_json_gen_strv(yajl_gen g, const char *const *v);
/* Write the generator's buffer and a final newline to f, then free g. */
void rune_json_gen_print(yajl_gen g, FILE *f);
/* Copy a parsed value into the generator (used to pass config fragments on). */
void rune_json_gen_value(yajl_gen g, yajl_val v);

#endif
