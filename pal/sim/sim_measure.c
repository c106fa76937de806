/* The simulated enclave's measurement, in the spirit of SGX's MRENCLAVE: a
 * SHA-256 over what the enclave was built from — the PAL's executable code as
 * loaded in memory, its arguments, and the files it was told to measure (by
 * default the whole root filesystem of the container, other mounts excluded).
 * Computed once at pal_init, after the root went read-only. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pal.h"
#include "palproc.h"
#include "sim.h"

struct code_ctx {
	void *base;
	EVP_MD_CTX *md;
	int found;
};

static int hash_code_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	struct code_ctx *c = data;
	if ((void *) info->dlpi_addr != c->base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			EVP_DigestUpdate(c->md, (const void *) (info->dlpi_addr + ph->p_vaddr), ph->p_memsz);
			c->found++;
		}
	}
	return 1;
}

static int sha256_fd(int fd, unsigned char out[32])
{
	static unsigned char buf[1 << 16];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ssize_t n;
	int r = 0;
	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		r = -ENOMEM;
	while (r == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno != EINTR)
				r = -errno;
			continue;
		}
		EVP_DigestUpdate(md, buf, n);
	}
	if (r == 0)
		EVP_DigestFinal_ex(md, out, NULL);
	EVP_MD_CTX_free(md);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void record(EVP_MD_CTX *md, char kind, const char *path, const void *data, size_t len)
{
	EVP_DigestUpdate(md, &kind, 1);
	EVP_DigestUpdate(md, path, strlen(path) + 1);
	EVP_DigestUpdate(md, data, len);
}

static int measure_tree(EVP_MD_CTX *md, int dfd, const char *path, unsigned long long mnt_id, int depth);

/* One entry of a measured tree, named path, at dirfd/name. */
static int measure_entry(EVP_MD_CTX *md, int dfd, const char *name, const char *path, unsigned long long mnt_id,
                         int depth)
{
	struct statx sx;
	if (statx(dfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE | STATX_MNT_ID, &sx) < 0)
		return -errno;
	/* Another filesystem mounted here (proc, dev, a volume): not the enclave's image. */
	if (mnt_id && sx.stx_mnt_id != mnt_id)
		return 0;
	if (S_ISDIR(sx.stx_mode)) {
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		return measure_tree(md, fd, path, mnt_id, depth + 1);
	}
	if (S_ISLNK(sx.stx_mode)) {
		char target[4096];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target));
		if (n < 0)
			return -errno;
		record(md, 'L', path, target, n);
		return 0;
	}
	if (!S_ISREG(sx.stx_mode))
		return 0;
	unsigned char h[32 + sizeof(unsigned short)];
	unsigned short mode = sx.stx_mode & 07777;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = sha256_fd(fd, h);
	close(fd);
	memcpy(h + 32, &mode, sizeof(mode));
	if (r == 0)
		record(md, 'F', path, h, sizeof(h));
	return r;
}

/* Takes ownership of dfd. Entries in name order, so the result does not
 * depend on the filesystem's directory order. */
static int measure_tree(EVP_MD_CTX *md, int dfd, const char *path, unsigned long long mnt_id, int depth)
{
	DIR *d = fdopendir(dfd);
	char **names = NULL;
	size_t n = 0;
	int r = 0;
	struct dirent *e;

	if (d == NULL) {
		close(dfd);
		return -errno;
	}
	if (depth > 256)
		r = -ELOOP;
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*names));
		if (nn == NULL || (nn[n] = strdup(e->d_name)) == NULL) {
			names = nn ? nn : names;
			r = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char *child = NULL;
		if (asprintf(&child, "%s/%s", strcmp(path, "/") ? path : "", names[i]) < 0)
			r = -ENOMEM;
		else
			r = measure_entry(md, dirfd(d), names[i], child, mnt_id, depth);
		if (r < 0 && r != -ENOMEM)
			pal_log(PAL_LOG_ERROR, "measure %s: %s", child, strerror(-r));
		free(child);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return r;
}

static int measure_path(EVP_MD_CTX *md, const char *path)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MNT_ID, &sx) < 0) {
		int e = errno;
		pal_log(PAL_LOG_ERROR, "measure %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISDIR(sx.stx_mode))
		return measure_entry(md, AT_FDCWD, path, path, 0, 0);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return measure_tree(md, fd, path, sx.stx_mnt_id, 0);
}

int sim_measure(const struct sim_config *cfg, const char *args, unsigned char mr[32])
{
	static const char domain[] = "rune liberpal-sim enclave measurement v1";
	Dl_info di;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int r = 0;

	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	EVP_DigestUpdate(md, domain, sizeof(domain));
	struct code_ctx cc = { .md = md };
	if (dladdr((void *) sim_measure, &di) == 0
	    || (cc.base = di.dli_fbase, dl_iterate_phdr(hash_code_segments, &cc), cc.found == 0)) {
		pal_log(PAL_LOG_ERROR, "cannot find the enclave runtime's own code to measure");
		r = -ENOEXEC;
	}
	EVP_DigestUpdate(md, args, strlen(args) + 1);
	for (size_t i = 0; r == 0 && i < cfg->n_measure; i++)
		r = measure_path(md, cfg->measure[i]);
	if (r == 0)
		EVP_DigestFinal_ex(md, mr, NULL);
	EVP_MD_CTX_free(md);
	return r;
}

void sim_fill_report(const unsigned char mr[32], void *report)
{
	static const char keyid[] = "rune-sim: NOT A TEE, DEBUG ONLY";
	unsigned char data[PAL_SGX_REPORT_DATA_SIZE];
	unsigned long long attrs[2] = { PAL_SGX_FLAGS_INIT | PAL_SGX_FLAGS_DEBUG | PAL_SGX_FLAGS_MODE64BIT,
		                        0x3 /* XFRM: x87, SSE */ };
	unsigned char *r = report;

	memcpy(data, r + PAL_SGX_REPORT_DATA_OFFSET, sizeof(data));
	memset(r, 0, PAL_SGX_REPORT_SIZE);
	memcpy(r + PAL_SGX_REPORT_ATTRIBUTES_OFFSET, attrs, sizeof(attrs));
	memcpy(r + PAL_SGX_REPORT_MRENCLAVE_OFFSET, mr, 32);
	memcpy(r + PAL_SGX_REPORT_DATA_OFFSET, data, sizeof(data));
	/* No key, no MAC: the key id says so to anyone who looks. */
	memcpy(r + PAL_SGX_REPORT_KEYID_OFFSET, keyid, sizeof(keyid) - 1);
}
