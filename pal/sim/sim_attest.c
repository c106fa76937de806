/* The simulation's /dev/attestation: the files Gramine offers inside an SGX
 * enclave (attestation_type, user_report_data, report, quote), so that one
 * attester runs unchanged here and under Gramine.
 *
 * A tmpfs on /dev/attestation in the enclave's mount namespace holds a
 * regular attestation_type file and three FIFOs. The enclave host (this
 * process) keeps user_report_data open for reading, so a writer never
 * blocks; a thread per output FIFO waits in open() for a reader, takes the
 * latest report data written, and writes the report or the quote, then
 * closes: the reader sees EOF, as with Gramine's generated-on-open files.
 *
 * The quote is the simulation's own format (read by rune-kbs and
 * libruneattest): "RUNE-SIM-QUOTE" magic (16 bytes), version 1, flags (bit 0:
 * simulation), the measurement (32), config_id (64: the init-data digest the
 * PAL was given), the report data (64), then a DER ECDSA P-256 signature by
 * the simulation key over those 184 bytes. The key lives on the host in
 * /var/lib/rune/sim/ (made on first use): it is read when rune loads this
 * PAL, before the container's root is entered. Whoever holds that key can
 * forge quotes: the simulation proves nothing against the host. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pal.h"
#include "palproc.h"
#include "sim.h"

#define DEV            "/dev/attestation"
#define SIM_KEY_DIR    "/var/lib/rune/sim"
#define SIM_KEY        SIM_KEY_DIR "/sim-key.pem"
#define SIM_PUB        SIM_KEY_DIR "/sim-key.pub"
#define ATTEST_TYPE    "rune-sim-insecure-simulation"
#define QUOTE_BODY     (16 + 4 + 4 + 32 + 64 + 64)
#define REPORT_DATA_AT 320

static EVP_PKEY *sim_key;
/* The key file's bytes, read at dlopen, parsed at the first quote: OpenSSL's
 * PEM decoders cost 1.3 ms, which an enclave that is never asked for a
 * quote need not pay at every start. */
static char sim_key_pem[16384];
static size_t sim_key_pem_len;
static char sim_key_error[160];

static struct {
	bool running;
	int rd_fd; /* user_report_data, held open for reading */
	unsigned char mr[32], config_id[64], report_data[64];
	pthread_mutex_t lock;
	pthread_t quote_thread, report_thread;
} A = { .rd_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static void put_le32(unsigned char *p, unsigned v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static int write_new(const char *path, EVP_PKEY *k, bool private, mode_t mode)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s.%d", path, getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok = f && (private ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) : PEM_write_PUBKEY(f, k));
	if (f)
		ok = fclose(f) == 0 && ok;
	else if (fd >= 0)
		close(fd);
	/* link() does not replace: a concurrent first use keeps one key. */
	if (ok && link(tmp, path) < 0 && errno != EEXIST)
		ok = 0;
	unlink(tmp);
	return ok ? 0 : -1;
}

/* Runs at dlopen, while the host's /var/lib/rune is still reachable. */
__attribute__((constructor)) static void load_sim_key(void)
{
	FILE *f = fopen(SIM_KEY, "re");
	if (f == NULL && errno == ENOENT) {
		EVP_PKEY *k = EVP_EC_gen("P-256");
		mkdir("/var/lib/rune", 0755);
		mkdir(SIM_KEY_DIR, 0700);
		if (k && write_new(SIM_KEY, k, true, 0600) == 0)
			write_new(SIM_PUB, k, false, 0644);
		EVP_PKEY_free(k);
		f = fopen(SIM_KEY, "re");
	}
	if (f == NULL) {
		snprintf(sim_key_error, sizeof(sim_key_error), "cannot read the simulation key %s: %s", SIM_KEY,
		         strerror(errno));
		return;
	}
	sim_key_pem_len = fread(sim_key_pem, 1, sizeof(sim_key_pem), f);
	fclose(f);
	if (sim_key_pem_len == 0 || sim_key_pem_len == sizeof(sim_key_pem)
	    || memmem(sim_key_pem, sim_key_pem_len, "-----BEGIN ", 11) == NULL) {
		sim_key_pem_len = 0;
		snprintf(sim_key_error, sizeof(sim_key_error), "%s is not a PEM private key", SIM_KEY);
	}
}

/* The key, parsed on first use (under A.lock, in the quote thread). */
static EVP_PKEY *sim_key_get(void)
{
	if (sim_key == NULL && sim_key_pem_len > 0) {
		BIO *b = BIO_new_mem_buf(sim_key_pem, (int) sim_key_pem_len);
		sim_key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		OPENSSL_cleanse(sim_key_pem, sim_key_pem_len);
		sim_key_pem_len = 0;
		if (sim_key == NULL)
			snprintf(sim_key_error, sizeof(sim_key_error), "%s is not a PEM private key", SIM_KEY);
	}
	return sim_key;
}

/* The latest report data written (Gramine: each write replaces all 64
 * bytes, a short one zero-padded). */
static void take_report_data(void)
{
	unsigned char buf[64];
	ssize_t n;
	while ((n = read(A.rd_fd, buf, sizeof(buf))) > 0) {
		memset(A.report_data, 0, sizeof(A.report_data));
		memcpy(A.report_data, buf, (size_t) n);
	}
}

static size_t make_quote(unsigned char *q, size_t cap)
{
	memset(q, 0, QUOTE_BODY);
	memcpy(q, "RUNE-SIM-QUOTE", 14);
	put_le32(q + 16, 1);
	put_le32(q + 20, 1);
	memcpy(q + 24, A.mr, 32);
	memcpy(q + 56, A.config_id, 64);
	memcpy(q + 120, A.report_data, 64);
	size_t sig_len = cap - QUOTE_BODY - 4;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY *key = sim_key_get();
	int ok = ctx && key && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1
	         && EVP_DigestSign(ctx, q + QUOTE_BODY + 4, &sig_len, q, QUOTE_BODY) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return 0;
	put_le32(q + QUOTE_BODY, (unsigned) sig_len);
	return QUOTE_BODY + 4 + sig_len;
}

static void write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return; /* the reader went away */
		p += w;
		n -= (size_t) w;
	}
}

/* A FIFO has no end of file while a writer is open: reopening at once would
 * hand the reader that is still draining this answer a second one. Wait
 * (briefly: it reads to EOF and closes) until no reader is left. */
static void wait_reader_gone(const char *path)
{
	for (int i = 0; i < 5000 && __atomic_load_n(&A.running, __ATOMIC_ACQUIRE); i++) {
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return; /* ENXIO: no reader */
		close(fd);
		usleep(1000);
	}
}

/* Serve one output FIFO: wait for a reader, answer, close. */
static void *serve(void *arg)
{
	bool quote = arg != NULL;
	const char *path = quote ? DEV "/quote" : DEV "/report";
	for (;;) {
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		unsigned char out[512];
		size_t n = 0;
		pthread_mutex_lock(&A.lock);
		if (!A.running) {
			pthread_mutex_unlock(&A.lock);
			close(fd);
			return NULL;
		}
		take_report_data();
		if (quote) {
			n = make_quote(out, sizeof(out));
		} else {
			sim_fill_report(A.mr, out);
			memcpy(out + REPORT_DATA_AT, A.report_data, 64);
			n = PAL_SGX_REPORT_SIZE;
		}
		pthread_mutex_unlock(&A.lock);
		if (n == 0)
			pal_log(PAL_LOG_ERROR, "/dev/attestation/quote: %s",
			        sim_key_error[0] ? sim_key_error : "signing the simulated quote failed");
		write_all(fd, out, n);
		close(fd);
		wait_reader_gone(path);
	}
}

static int fail(const char *what)
{
	int e = errno;
	pal_log(PAL_LOG_WARNING, "/dev/attestation: %s: %s", what, strerror(e));
	if (A.rd_fd >= 0) {
		close(A.rd_fd);
		A.rd_fd = -1;
	}
	umount2(DEV, MNT_DETACH);
	return -e;
}

int sim_attestation_start(const unsigned char mr[32], const unsigned char config_id[64])
{
	int fd;
	if (mkdir(DEV, 0755) < 0 && errno != EEXIST) {
		int e = errno;
		pal_log(PAL_LOG_WARNING, "/dev/attestation: mkdir: %s", strerror(e));
		return -e;
	}
	if (mount("tmpfs", DEV, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") < 0)
		return fail("mount a tmpfs on " DEV);
	if ((fd = open(DEV "/attestation_type", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444)) < 0
	    || write(fd, ATTEST_TYPE, strlen(ATTEST_TYPE)) != (ssize_t) strlen(ATTEST_TYPE) || close(fd) < 0)
		return fail("write attestation_type");
	if (mkfifo(DEV "/user_report_data", 0666) < 0 || mkfifo(DEV "/quote", 0444) < 0
	    || mkfifo(DEV "/report", 0444) < 0)
		return fail("make the FIFOs");
	/* mkfifo honours the umask: make the modes exact. */
	if (chmod(DEV "/user_report_data", 0666) < 0 || chmod(DEV "/quote", 0444) < 0 || chmod(DEV "/report", 0444) < 0)
		return fail("chmod the FIFOs");
	if ((A.rd_fd = open(DEV "/user_report_data", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return fail("open user_report_data");
	memcpy(A.mr, mr, 32);
	memcpy(A.config_id, config_id, 64);
	A.running = true;
	if (pthread_create(&A.quote_thread, NULL, serve, (void *) 1) != 0
	    || pthread_create(&A.report_thread, NULL, serve, NULL) != 0) {
		A.running = false;
		return fail("start the attestation threads");
	}
	if (sim_key == NULL && sim_key_pem_len == 0)
		pal_log(PAL_LOG_WARNING, "/dev/attestation/quote will fail: %s", sim_key_error);
	pal_log(PAL_LOG_INFO, "/dev/attestation serves SIMULATED quotes (signed by %s, a key on the host)", SIM_KEY);
	return 0;
}

void sim_attestation_stop(void)
{
	if (!A.running)
		return;
	pthread_mutex_lock(&A.lock);
	__atomic_store_n(&A.running, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&A.lock);
	/* Wake each thread's open() with a reader of our own. */
	int q = open(DEV "/quote", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int r = open(DEV "/report", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	pthread_join(A.quote_thread, NULL);
	pthread_join(A.report_thread, NULL);
	if (q >= 0)
		close(q);
	if (r >= 0)
		close(r);
	close(A.rd_fd);
	A.rd_fd = -1;
}
