#include "ref.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "util.h"

int image_digest_validate(const char *d, const char *where, rune_error_t *err)
{
	size_t want = 0;
	const char *hex = NULL;
	if (d && strncmp(d, "sha256:", 7) == 0) {
		want = 64;
		hex = d + 7;
	} else if (d && strncmp(d, "sha512:", 7) == 0) {
		want = 128;
		hex = d + 7;
	}
	if (hex == NULL)
		return rune_error(err, EINVAL, "%s: digest \"%s\": want sha256:<hex> or sha512:<hex>", where,
		                  d ? d : "");
	if (strlen(hex) != want || strspn(hex, "0123456789abcdef") != want)
		return rune_error(err, EINVAL, "%s: digest \"%s\": want %zu lowercase hex digits", where, d, want);
	return 0;
}

/* One path component: lowercase alnum runs joined by '.', '_', '__' or '-'+. */
static bool valid_component(const char *s, size_t n)
{
	if (n == 0 || !isalnum((unsigned char) s[0]) || !isalnum((unsigned char) s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (isupper(c))
			return false;
		if (isalnum(c))
			continue;
		if (c == '.' || c == '_') {
			if (c == '.' && !isalnum((unsigned char) s[i + 1]))
				return false;
			if (c == '_' && s[i + 1] == '_')
				i++;
			if (!isalnum((unsigned char) s[i + 1]))
				return false;
			continue;
		}
		if (c == '-') {
			while (s[i + 1] == '-')
				i++;
			continue;
		}
		return false;
	}
	return true;
}

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(isalnum((unsigned char) t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char) t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

static bool valid_host(const char *h)
{
	if (*h == '\0')
		return false;
	for (const char *p = h; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
			return false;
	return true;
}

static int fail(rune_error_t *err, const char *ref, const char *why)
{
	return rune_error(err, EINVAL, "invalid image reference \"%s\": %s", ref, why);
}

static int parse_ref(const char *s, struct image_ref *ref, bool default_tag, rune_error_t *err)
{
	memset(ref, 0, sizeof(*ref));
	if (s == NULL || *s == '\0')
		return fail(err, "", "empty");
	if (strlen(s) > 4096)
		return fail(err, "(too long)", "longer than 4096 bytes");
	if (strncmp(s, "docker://", 9) == 0)
		s += 9;
	cleanup_free char *copy = xstrdup(s);
	char *name = copy;

	char *at = strchr(name, '@');
	if (at) {
		*at = '\0';
		if (image_digest_validate(at + 1, "image reference", err) < 0)
			return rune_error_wrap(err, "\"%s\"", s);
		ref->digest = xstrdup(at + 1);
	}
	/* A tag is after the last ':' that follows the last '/' (a port comes before one). */
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		*colon = '\0';
		if (!valid_tag(colon + 1)) {
			image_ref_release(ref);
			return fail(err, s, "bad tag (want [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
		}
		ref->tag = xstrdup(colon + 1);
	}
	char *first_slash = strchr(name, '/');
	const char *path = name;
	if (first_slash) {
		size_t n = first_slash - name;
		/* The first component names a registry if it looks like a host. */
		if (memchr(name, '.', n) || memchr(name, ':', n) || (n == 9 && strncmp(name, "localhost", 9) == 0)) {
			*first_slash = '\0';
			if (!valid_host(name)) {
				image_ref_release(ref);
				return fail(err, s, "bad registry host");
			}
			ref->registry = xstrdup(name);
			path = first_slash + 1;
		}
	}
	if (ref->registry == NULL || strcmp(ref->registry, "index.docker.io") == 0
	    || strcmp(ref->registry, "registry-1.docker.io") == 0) {
		free(ref->registry);
		ref->registry = xstrdup("docker.io");
	}
	if (*path == '\0') {
		image_ref_release(ref);
		return fail(err, s, "the repository name is empty");
	}
	for (const char *p = path;;) {
		const char *e = strchrnul(p, '/');
		if (!valid_component(p, e - p)) {
			image_ref_release(ref);
			return fail(err, s,
			            "repository path components must be lowercase letters and digits, "
			            "separated by '.', '_', '__' or '-'");
		}
		if (*e == '\0')
			break;
		p = e + 1;
	}
	if (strcmp(ref->registry, "docker.io") == 0 && strchr(path, '/') == NULL)
		ref->repository = xasprintf("library/%s", path);
	else
		ref->repository = xstrdup(path);
	/* As distribution/reference counts it: the whole normalized name, so that
	 * what prints parses again (found by tests/fuzz/fuzz_image_ref). */
	if (strlen(ref->registry) + 1 + strlen(ref->repository) > 255) {
		image_ref_release(ref);
		return fail(err, s, "the name (registry/repository) is longer than 255 bytes");
	}
	if (default_tag && ref->tag == NULL && ref->digest == NULL)
		ref->tag = xstrdup("latest");
	return 0;
}

int image_ref_parse(const char *s, struct image_ref *ref, rune_error_t *err)
{
	return parse_ref(s, ref, true, err);
}

int image_ref_parse_named(const char *s, struct image_ref *ref, rune_error_t *err)
{
	return parse_ref(s, ref, false, err);
}

char *image_ref_string(const struct image_ref *r)
{
	return xasprintf("%s/%s%s%s%s%s", r->registry, r->repository, r->tag ? ":" : "", r->tag ? r->tag : "",
	                 r->digest ? "@" : "", r->digest ? r->digest : "");
}

char *image_ref_repo(const struct image_ref *r)
{
	return xasprintf("%s/%s", r->registry, r->repository);
}

const char *image_ref_api_host(const struct image_ref *r)
{
	return strcmp(r->registry, "docker.io") == 0 ? "registry-1.docker.io" : r->registry;
}

void image_ref_release(struct image_ref *r)
{
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}
