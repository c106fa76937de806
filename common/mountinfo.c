#include "mountinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Decode the \ooo escapes the kernel writes for spaces, tabs, newlines and backslashes. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0'
		    && p[3] <= '7') {
			*o++ = (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

/* "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
static bool parse_line(char *line, struct rune_mount_entry *e)
{
	char *save = NULL, *f[5];
	char *dash = strstr(line, " - ");
	if (dash == NULL)
		return false;
	*dash = '\0';
	f[0] = strtok_r(line, " ", &save);
	for (int i = 1; i < 5; i++)
		f[i] = f[i - 1] ? strtok_r(NULL, " ", &save) : NULL;
	char *save2 = NULL;
	char *fstype = strtok_r(dash + 3, " ", &save2);
	char *source = fstype ? strtok_r(NULL, " ", &save2) : NULL;
	char *superopts = source ? strtok_r(NULL, " \n", &save2) : NULL;
	if (f[4] == NULL || superopts == NULL)
		return false;
	unescape(f[3]);
	unescape(f[4]);
	e->root = f[3];
	e->mountpoint = f[4];
	e->fstype = fstype;
	e->superopts = superopts;
	return true;
}

int rune_mountinfo_each(int (*fn)(const struct rune_mount_entry *e, void *data), void *data, rune_error_t *err)
{
	cleanup_file FILE *f = fopen("/proc/self/mountinfo", "re");
	cleanup_free char *line = NULL;
	size_t cap = 0;
	if (f == NULL)
		return rune_error(err, errno, "open /proc/self/mountinfo");
	while (getline(&line, &cap, f) > 0) {
		struct rune_mount_entry e;
		if (!parse_line(line, &e))
			continue;
		int r = fn(&e, data);
		if (r != 0)
			return r;
	}
	return 0;
}

bool rune_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
