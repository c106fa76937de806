/* The resource policy: JSON, not Rego (Trustee's OPA policies are not
 * supported). One rule per resource path, `*` matching a whole segment:
 *
 *   {"default": {"allow": false},
 *    "resources": {"default/key/1": {"tee": ["sim"], "measurement": ["<hex>"],
 *                                    "init_data": ["<hex>"]},
 *                  "default/cosign/STAR": {"allow": true}}}
 *
 * (STAR standing for an asterisk, which matches one whole segment.)
 * The most specific rule wins (fewest wildcards, then file order); every
 * listed constraint must hold. Without a rule and without a default: deny. */
#include <string.h>

#include "array.h"
#include "cleanup.h"
#include "kbs.h"
#include "util.h"

static const char *const rule_fields[] = { "allow",     "tee",          "measurement",
	                                   "init_data", "image_digest", "image_repository" };

static int check_rule(json_t *r, const char *what, const char *where, rune_error_t *err)
{
	const char *k;
	json_t *v;
	if (!json_is_object(r))
		return rune_error(err, 0, "%s: %s: a rule is an object", what, where);
	json_object_foreach(r, k, v)
	{
		bool known = false;
		for (size_t i = 0; i < ARRAY_SIZE(rule_fields); i++)
			known |= strcmp(k, rule_fields[i]) == 0;
		if (!known)
			return rune_error(err, 0,
			                  "%s: %s.%s: unknown field (allow, tee, measurement, init_data, image_digest, "
			                  "image_repository)",
			                  what, where, k);
		if (strcmp(k, "allow") == 0 ? !json_is_boolean(v) : !json_is_array(v))
			return rune_error(err, 0, "%s: %s.%s: expected %s", what, where, k,
			                  strcmp(k, "allow") == 0 ? "true or false" : "an array of strings");
		size_t i;
		json_t *s;
		if (json_is_array(v))
			json_array_foreach(v, i, s) if (!json_is_string(s)) return rune_error(
			    err, 0, "%s: %s.%s[%zu]: expected a string", what, where, k, i);
	}
	return 0;
}

int kbs_policy_load(const char *text, size_t len, const char *what, json_t **out, rune_error_t *err)
{
	json_error_t je;
	json_t *p = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	const char *k;
	json_t *v;
	if (!json_is_object(p)) {
		json_decref(p);
		return rune_error(err, 0, "%s: %s", what, p ? "not a JSON object" : je.text);
	}
	json_object_foreach(p, k, v)
	{
		int rc = 0;
		if (strcmp(k, "default") == 0) {
			rc = check_rule(v, what, "default", err);
		} else if (strcmp(k, "resources") == 0 && json_is_object(v)) {
			const char *path;
			json_t *r;
			json_object_foreach(v, path, r)
			{
				cleanup_free char *where = xasprintf("resources[\"%s\"]", path);
				if ((rc = check_rule(r, what, where, err)) < 0)
					break;
			}
		} else {
			rc = rune_error(err, 0, "%s: %s: %s", what, k,
			                strcmp(k, "resources") == 0 ? "expected an object"
			                                            : "unknown field (default, resources)");
		}
		if (rc < 0) {
			json_decref(p);
			return -1;
		}
	}
	*out = p;
	return 0;
}

/* -1 if pattern does not match path, else its number of wildcards. */
static int match(const char *pattern, const char *path)
{
	int wild = 0;
	while (*pattern && *path) {
		size_t pn = strcspn(pattern, "/"), sn = strcspn(path, "/");
		if (pn == 1 && pattern[0] == '*')
			wild++;
		else if (pn != sn || strncmp(pattern, path, pn) != 0)
			return -1;
		pattern += pn;
		path += sn;
		if ((*pattern == '/') != (*path == '/'))
			return -1;
		if (*pattern == '/') {
			pattern++;
			path++;
		}
	}
	return *pattern || *path ? -1 : wild;
}

static int constraint(json_t *rule, const char *field, const char *claim, const char *rule_name, const char *path,
                      rune_error_t *err)
{
	json_t *list = json_object_get(rule, field), *s;
	size_t i;
	if (list == NULL)
		return 0;
	json_array_foreach(list, i, s) if (claim[0] && strcasecmp(json_string_value(s), claim) == 0) return 0;
	cleanup_free char *allowed = json_dumps(list, JSON_COMPACT);
	return rune_error(err, 0, "resource policy rule \"%s\" denies %s: %s %s%s%s is not one of %s", rule_name, path,
	                  field, claim[0] ? "\"" : "", claim[0] ? claim : "(none: the evidence binds none)",
	                  claim[0] ? "\"" : "", allowed);
}

int kbs_policy_check(const json_t *policy, const char *path, const struct kbs_claims *c, rune_error_t *err)
{
	json_t *rules = json_object_get(policy, "resources"), *r, *best = NULL;
	const char *pattern, *best_name = "default";
	int best_wild = 1 << 30;
	json_object_foreach(rules, pattern, r)
	{
		int w = match(pattern, path);
		if (w >= 0 && w < best_wild) {
			best = r;
			best_wild = w;
			best_name = pattern;
		}
	}
	if (best == NULL)
		best = json_object_get(policy, "default");
	if (best == NULL)
		return rune_error(err, 0, "resource policy has no rule for %s and no default: denied", path);
	if (json_is_false(json_object_get(best, "allow")))
		return rune_error(err, 0, "resource policy rule \"%s\" denies %s (allow: false)", best_name, path);
	if (constraint(best, "tee", c->tee, best_name, path, err) < 0
	    || constraint(best, "measurement", c->measurement, best_name, path, err) < 0
	    || constraint(best, "init_data", c->init_data, best_name, path, err) < 0
	    || constraint(best, "image_digest", c->image_digest, best_name, path, err) < 0
	    || constraint(best, "image_repository", c->image_repository, best_name, path, err) < 0)
		return -1;
	return 0;
}
