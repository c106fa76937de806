/* pal-report PAL ROOTFS ARGS REPORTDATA: what rune's init does with a v3
 * enclave runtime, outside rune — load it, enter ROOTFS (a private bind of
 * it, as a container root), pal_init with ARGS, then ask pal_get_local_report
 * with REPORTDATA (text, up to 64 bytes) in the report data field. Prints
 * mrenclave, report data (hex), attribute flags and key id. */
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "pal.h"

static void hex(const char *name, const unsigned char *p, size_t n)
{
	printf("%s=", name);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	unsigned char ti[PAL_SGX_TARGETINFO_SIZE] = { 0 }, rep[PAL_SGX_REPORT_SIZE] = { 0 };
	int len = sizeof(rep);
	unsigned long long flags;

	if (argc != 5) {
		fprintf(stderr, "usage: pal-report PAL ROOTFS ARGS REPORTDATA\n");
		return 2;
	}
	void *dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	pal_init_v3_fn init = (pal_init_v3_fn) dlsym(dl, "pal_init");
	pal_get_local_report_fn report = (pal_get_local_report_fn) dlsym(dl, "pal_get_local_report");
	if (init == NULL || report == NULL) {
		fprintf(stderr, "not a PAL v3\n");
		return 1;
	}
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
	    || mount(argv[2], argv[2], NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(argv[2]) < 0 || chroot(".") < 0
	    || chdir("/") < 0) {
		perror("enter rootfs");
		return 1;
	}
	struct pal_attr_v3_t a = { .attr_v1 = { .args = argv[3], .log_level = "error" }, .fd = -1, .addr = 0 };
	int r = init(&a);
	if (r < 0) {
		fprintf(stderr, "pal_init: %d\n", r);
		return 1;
	}
	strncpy((char *) rep + PAL_SGX_REPORT_DATA_OFFSET, argv[4], PAL_SGX_REPORT_DATA_SIZE);
	r = report(ti, sizeof(ti), rep, &len);
	if (r < 0) {
		fprintf(stderr, "pal_get_local_report: %d\n", r);
		return 1;
	}
	memcpy(&flags, rep + PAL_SGX_REPORT_ATTRIBUTES_OFFSET, sizeof(flags));
	hex("mrenclave", rep + PAL_SGX_REPORT_MRENCLAVE_OFFSET, 32);
	hex("reportdata", rep + PAL_SGX_REPORT_DATA_OFFSET, PAL_SGX_REPORT_DATA_SIZE);
	printf("flags=%#llx\nlen=%d\nkeyid=%.32s\n", flags, len, (char *) rep + PAL_SGX_REPORT_KEYID_OFFSET);
	/* No exit handlers: inside the chroot a leak checker finds no /proc. */
	fflush(stdout);
	_exit(0);
}
