/* A fake configfs-tsm report tree (FUSE), for testing the TDX evidence
 * provider on a machine without TDX: mounted on
 * <root>/sys/kernel/config/tsm/report, it behaves as the kernel's does
 * (Documentation/ABI/testing/configfs-tsm-report): mkdir makes a report
 * directory holding provider, inblob, outblob and generation; each write to
 * inblob counts in generation; outblob is the quote; rmdir removes it.
 *
 *   fake-tsm QUOTE_FILE [--provider NAME] [--race] MOUNTPOINT [fuse options]
 *
 * --race makes generation count one write more than the caller made, as
 * when another process wrote inblob between the caller's write and read. */
#define FUSE_USE_VERSION 31
#include <errno.h>
#include <fuse.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_REPORTS 16

static struct {
	char name[64];
	bool used;
	unsigned generation;
	size_t inblob_len;
} reports[MAX_REPORTS];

static char *quote;
static size_t quote_len;
static const char *provider = "tdx_guest";
static bool race;

static const char *const attrs[] = { "provider", "inblob", "outblob", "generation" };

/* "/name" -> report index and attribute ("" for the directory). */
static int lookup(const char *path, const char **attr)
{
	char name[64];
	const char *slash;
	if (path[0] != '/' || path[1] == '\0')
		return -1;
	slash = strchr(path + 1, '/');
	size_t n = slash ? (size_t) (slash - path - 1) : strlen(path + 1);
	if (n >= sizeof(name))
		return -1;
	memcpy(name, path + 1, n);
	name[n] = '\0';
	*attr = slash ? slash + 1 : "";
	for (int i = 0; i < MAX_REPORTS; i++)
		if (reports[i].used && strcmp(reports[i].name, name) == 0)
			return i;
	return -1;
}

static bool known_attr(const char *a)
{
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strcmp(a, attrs[i]) == 0)
			return true;
	return false;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	const char *attr;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	int i = lookup(path, &attr);
	if (i < 0)
		return -ENOENT;
	if (*attr == '\0') {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	if (!known_attr(attr))
		return -ENOENT;
	st->st_mode = S_IFREG | (strcmp(attr, "inblob") == 0 ? 0200 : 0444);
	st->st_nlink = 1;
	st->st_size = 4096;
	return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                      enum fuse_readdir_flags flags)
{
	const char *attr;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	if (strcmp(path, "/") == 0) {
		for (int i = 0; i < MAX_REPORTS; i++)
			if (reports[i].used)
				fill(buf, reports[i].name, NULL, 0, 0);
		return 0;
	}
	if (lookup(path, &attr) < 0 || *attr)
		return -ENOENT;
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		fill(buf, attrs[i], NULL, 0, 0);
	return 0;
}

static int fs_mkdir(const char *path, mode_t mode)
{
	const char *attr;
	if (strchr(path + 1, '/') || strlen(path + 1) >= sizeof(reports[0].name))
		return -EPERM;
	if (lookup(path, &attr) >= 0)
		return -EEXIST;
	for (int i = 0; i < MAX_REPORTS; i++)
		if (!reports[i].used) {
			memset(&reports[i], 0, sizeof(reports[i]));
			reports[i].used = true;
			strcpy(reports[i].name, path + 1);
			return 0;
		}
	return -ENOSPC;
}

static int fs_rmdir(const char *path)
{
	const char *attr;
	int i = lookup(path, &attr);
	if (i < 0 || *attr)
		return -ENOENT;
	reports[i].used = false;
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	const char *attr;
	int i = lookup(path, &attr);
	if (i < 0 || !known_attr(attr))
		return -ENOENT;
	fi->direct_io = 1; /* sizes are not what stat says */
	return 0;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	return 0;
}

static int fs_write(const char *path, const char *data, size_t n, off_t off, struct fuse_file_info *fi)
{
	const char *attr;
	int i = lookup(path, &attr);
	if (i < 0 || strcmp(attr, "inblob") != 0)
		return -EACCES;
	if (off + n > 64)
		return -EINVAL; /* inblob holds at most 64 bytes */
	reports[i].inblob_len = off + n;
	reports[i].generation += race ? 2 : 1;
	return (int) n;
}

static int fs_read(const char *path, char *buf, size_t n, off_t off, struct fuse_file_info *fi)
{
	const char *attr;
	char text[32];
	const char *src;
	size_t len;
	int i = lookup(path, &attr);
	if (i < 0)
		return -ENOENT;
	if (strcmp(attr, "provider") == 0) {
		snprintf(text, sizeof(text), "%s\n", provider);
		src = text;
		len = strlen(text);
	} else if (strcmp(attr, "generation") == 0) {
		snprintf(text, sizeof(text), "%u\n", reports[i].generation);
		src = text;
		len = strlen(text);
	} else if (strcmp(attr, "outblob") == 0) {
		if (reports[i].inblob_len == 0)
			return -EINVAL; /* no report data yet */
		src = quote;
		len = quote_len;
	} else {
		return -EACCES;
	}
	if ((size_t) off >= len)
		return 0;
	if (n > len - (size_t) off)
		n = len - (size_t) off;
	memcpy(buf, src + off, n);
	return (int) n;
}

static const struct fuse_operations ops = {
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.mkdir = fs_mkdir,
	.rmdir = fs_rmdir,
	.open = fs_open,
	.truncate = fs_truncate,
	.read = fs_read,
	.write = fs_write,
};

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fake-tsm QUOTE_FILE [--provider NAME] [--race] MOUNTPOINT [fuse options]\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (quote_len = (size_t) ftell(f)) == 0) {
		perror(argv[1]);
		return 1;
	}
	rewind(f);
	quote = malloc(quote_len);
	if (quote == NULL || fread(quote, 1, quote_len, f) != quote_len)
		return 1;
	fclose(f);
	int i = 2;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "--provider") == 0 && i + 1 < argc)
			provider = argv[++i];
		else if (strcmp(argv[i], "--race") == 0)
			race = true;
		else
			break;
	}
	/* fuse_main wants argv[0] then the mountpoint and options. */
	argv[i - 1] = argv[0];
	return fuse_main(argc - i + 1, argv + i - 1, &ops, NULL);
}
