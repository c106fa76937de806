#include "gpg.h"

#include <errno.h>
#include <gpgme.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "util.h"

extern char **environ;

struct gpg_verifier {
	gpgme_ctx_t ctx;
	char *home;
	char **fingerprints; /* of every key and subkey imported: the only signers accepted */
};

static void gpgme_init_once(void)
{
	gpgme_check_version(NULL);
}

int image_gpg_check_key(const unsigned char *data, size_t len, rune_error_t *err)
{
	static const char armor[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
	if (len >= sizeof(armor) - 1 && memmem(data, len, armor, sizeof(armor) - 1))
		return 0;
	if (len > 0 && (data[0] & 0x80)) {
		/* Binary packets (gpg --export): the first must be a public key (tag 6). */
		unsigned tag = data[0] & 0x40 ? data[0] & 0x3f : (data[0] >> 2) & 0x0f;
		if (tag == 6)
			return 0;
	}
	if (len >= 10 && memmem(data, len < 64 ? len : 64, "-----BEGIN", 10))
		return rune_error(err, 0, "not an OpenPGP public key (a PEM file: is this a sigstore key?)");
	return rune_error(err, 0, "not an OpenPGP public key (neither armored nor binary key packets)");
}

static int gpg_fail(rune_error_t *err, gpgme_error_t e, const char *what)
{
	return rune_error(err, 0, "%s: %s", what, gpgme_strerror(e));
}

static int collect_fingerprints(struct gpg_verifier *v, rune_error_t *err)
{
	gpgme_error_t e = gpgme_op_keylist_start(v->ctx, NULL, 0);
	gpgme_key_t key;
	if (e)
		return gpg_fail(err, e, "gpg: listing the imported keys");
	while ((e = gpgme_op_keylist_next(v->ctx, &key)) == 0) {
		for (gpgme_subkey_t s = key->subkeys; s; s = s->next)
			if (s->fpr)
				rune_strv_append(&v->fingerprints, s->fpr);
		gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(v->ctx);
	return 0;
}

static int import_key(struct gpg_verifier *v, const struct trust_blob *k, rune_error_t *err)
{
	gpgme_data_t d;
	gpgme_error_t e = gpgme_data_new_from_mem(&d, (const char *) k->data, k->len, 0);
	if (e)
		return gpg_fail(err, e, k->name);
	e = gpgme_op_import(v->ctx, d);
	gpgme_data_release(d);
	if (e)
		return gpg_fail(err, e, k->name);
	gpgme_import_result_t r = gpgme_op_import_result(v->ctx);
	if (r == NULL || r->considered == 0 || (r->imported == 0 && r->unchanged == 0))
		return rune_error(err, 0, "%s: no OpenPGP public key could be imported from it", k->name);
	return 0;
}

/* A private keyring: a temporary GNUPGHOME and a gpgme context on it. */
static int private_keyring(char **home, gpgme_ctx_t *ctx, rune_error_t *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, gpgme_init_once);
	const char *tmp = getenv("TMPDIR");
	*ctx = NULL;
	*home = xasprintf("%s/rune-gpg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(*home) == NULL) {
		int e = errno;
		rune_error(err, e, "gpg: creating a private keyring in %s", *home);
		free(*home);
		*home = NULL;
		return -1;
	}
	gpgme_error_t e;
	if ((e = gpgme_new(ctx)) != 0 || (e = gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP)) != 0
	    || (e = gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL, *home)) != 0)
		return gpg_fail(err, e, "gpg: setting up gpgme (is gnupg installed?)");
	return 0;
}

/* Secret keys bring a gpg-agent up for the keyring: stop it, then remove the keyring. */
static void keyring_remove(char *home, gpgme_ctx_t ctx, bool agent)
{
	if (ctx)
		gpgme_release(ctx);
	if (home == NULL)
		return;
	if (agent) {
		char *argv[] = { (char *) "gpgconf", (char *) "--homedir", home,
			         (char *) "--kill",  (char *) "gpg-agent", NULL };
		pid_t pid;
		int status;
		if (posix_spawnp(&pid, "gpgconf", NULL, NULL, argv, environ) == 0)
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
	}
	rune_remove_tree(home, NULL);
	free(home);
}

int image_gpg_verifier_new(const struct trust_blob *keys, size_t n, struct gpg_verifier **out, rune_error_t *err)
{
	struct gpg_verifier *v = xcalloc(1, sizeof(*v));
	int rc = private_keyring(&v->home, &v->ctx, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = import_key(v, &keys[i], err);
	if (rc == 0)
		rc = collect_fingerprints(v, err);
	if (rc < 0) {
		image_gpg_verifier_free(v);
		return -1;
	}
	*out = v;
	return 0;
}

/* The signed content, written by gpgme, bounded: a compressed message could
 * otherwise expand without limit. */
struct bounded {
	char *buf;
	size_t len, max;
};

static ssize_t bounded_write(void *handle, const void *buf, size_t n)
{
	struct bounded *b = handle;
	if (b->len + n > b->max) {
		errno = EFBIG;
		return -1;
	}
	b->buf = xrealloc(b->buf, b->len + n + 1);
	memcpy(b->buf + b->len, buf, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

static bool known_signer(const struct gpg_verifier *v, const char *fpr)
{
	for (char **f = v->fingerprints; fpr && f && *f; f++)
		if (strcasecmp(*f, fpr) == 0)
			return true;
	return false;
}

int image_gpg_verify(struct gpg_verifier *v, const unsigned char *sig, size_t len, size_t max, char **payload,
                     size_t *plen, char **signer, char **why)
{
	static const char cleartext[] = "-----BEGIN PGP SIGNED MESSAGE-----";
	if (len >= sizeof(cleartext) - 1 && memcmp(sig, cleartext, sizeof(cleartext) - 1) == 0) {
		*why = xstrdup("a cleartext signature; simple signing uses a signed OpenPGP message");
		return -1;
	}
	struct bounded out = { .max = max };
	struct gpgme_data_cbs cbs = { .write = bounded_write };
	gpgme_data_t sd = NULL, pd = NULL;
	gpgme_error_t e = gpgme_data_new_from_mem(&sd, (const char *) sig, len, 0);
	if (!e)
		e = gpgme_data_new_from_cbs(&pd, &cbs, &out);
	if (!e)
		e = gpgme_op_verify(v->ctx, sd, NULL, pd);
	gpgme_data_release(sd);
	gpgme_data_release(pd);
	gpgme_verify_result_t r = e ? NULL : gpgme_op_verify_result(v->ctx);
	gpgme_signature_t s = r ? r->signatures : NULL;
	int rc = -1;
	if (e)
		*why = xasprintf("not a valid OpenPGP signed message: %s", gpgme_strerror(e));
	else if (s == NULL || s->next != NULL)
		*why = xstrdup(s ? "more than one signature in one message" : "no signature in the message");
	else if (gpgme_err_code(s->status) == GPG_ERR_NO_PUBKEY)
		*why = xasprintf("signed by key %s, which the policy does not name", s->fpr ? s->fpr : "(unknown)");
	else if (s->status != 0)
		*why = xasprintf("signature by %s does not verify: %s", s->fpr ? s->fpr : "(unknown key)",
		                 gpgme_strerror(s->status));
	else if (s->validity == GPGME_VALIDITY_NEVER || s->validity_reason != 0 || s->wrong_key_usage)
		*why = xasprintf("signature by %s is not valid (revoked, expired or wrong key usage)", s->fpr);
	else if (!known_signer(v, s->fpr))
		*why = xasprintf("signed by key %s, which the policy does not name", s->fpr);
	else
		rc = 0;
	if (rc == 0) {
		*payload = out.buf ? out.buf : xstrdup("");
		*plen = out.len;
		*signer = xstrdup(s->fpr);
	} else {
		free(out.buf);
	}
	return rc;
}

void image_gpg_verifier_free(struct gpg_verifier *v)
{
	if (v == NULL)
		return;
	keyring_remove(v->home, v->ctx, false);
	cleanup_strvp(&v->fingerprints);
	free(v);
}

static gpgme_error_t give_password(void *hook, const char *uid_hint, const char *info, int prev_was_bad, int fd)
{
	const char *pw = hook;
	if (pw == NULL || prev_was_bad)
		return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
	if (rune_write_all(fd, pw, strlen(pw)) < 0 || rune_write_all(fd, "\n", 1) < 0)
		return gpgme_error_from_errno(errno);
	return 0;
}

/* One secret key in a keyring of its own: decrypt msg, or say why not. */
static int decrypt_with(const struct gpg_secret *k, const unsigned char *msg, size_t len, size_t max, char **out,
                        size_t *out_len, char **why)
{
	char *home = NULL;
	gpgme_ctx_t ctx = NULL;
	cleanup_error rune_error_t err = NULL;
	struct bounded plain = { .max = max };
	struct gpgme_data_cbs cbs = { .write = bounded_write };
	gpgme_data_t kd = NULL, cd = NULL, pd = NULL;
	gpgme_error_t e = 0;
	int rc = -1;
	if (private_keyring(&home, &ctx, &err) < 0) {
		*why = xstrdup(err->msg);
		keyring_remove(home, ctx, false);
		return -1;
	}
	gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
	gpgme_set_passphrase_cb(ctx, give_password, (void *) k->password);
	if ((e = gpgme_data_new_from_mem(&kd, (const char *) k->data, k->len, 0)) == 0
	    && (e = gpgme_op_import(ctx, kd)) == 0
	    && (e = gpgme_data_new_from_mem(&cd, (const char *) msg, len, 0)) == 0
	    && (e = gpgme_data_new_from_cbs(&pd, &cbs, &plain)) == 0 && (e = gpgme_op_decrypt(ctx, cd, pd)) == 0)
		rc = 0;
	gpgme_data_release(kd);
	gpgme_data_release(cd);
	gpgme_data_release(pd);
	if (rc == 0) {
		*out = plain.buf ? plain.buf : xstrdup("");
		*out_len = plain.len;
	} else {
		*why = xstrdup(gpgme_err_code(e) == GPG_ERR_NO_SECKEY ? "not a recipient" : gpgme_strerror(e));
		if (plain.buf)
			explicit_bzero(plain.buf, plain.len);
		free(plain.buf);
	}
	keyring_remove(home, ctx, true);
	return rc;
}

int image_gpg_decrypt(const struct gpg_secret *keys, size_t n, const unsigned char *msg, size_t len, size_t max,
                      char **out, size_t *out_len, const char **by, char **why)
{
	*why = NULL;
	for (size_t i = 0; i < n; i++) {
		char *w = NULL;
		if (decrypt_with(&keys[i], msg, len, max, out, out_len, &w) == 0) {
			free(*why);
			*why = NULL;
			*by = keys[i].name;
			return 0;
		}
		free(*why);
		*why = w;
	}
	return -1;
}
