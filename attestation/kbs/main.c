/* rune-kbs: a development Key Broker Service speaking Trustee's protocol, for
 * users without a Trustee deployment. It verifies the simulation's quotes
 * and (when allowed) Trustee's insecure sample evidence; it is not a
 * verifier for hardware TEEs. */
#include <errno.h>
#include <getopt.h>
#include <jose/jose.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "kbs.h"
#include "log.h"
#include "util.h"

static const char USAGE[] =
    "usage: rune-kbs [options]\n"
    "\n"
    "A development KBS (Trustee protocol " KBS_VERSION "): /kbs/v0/auth, /attest, /resource.\n"
    "\n"
    "options:\n"
    "  --listen HOST:PORT       address (default 127.0.0.1:8080)\n"
    "  --repository DIR         resources as DIR/<repository>/<type>/<tag> (default /var/lib/rune/kbs/repository)\n"
    "  --policy FILE            resource policy (JSON; default: any TEE but sample, see rune-kbs(8))\n"
    "  --admin-key FILE         admin public key (PEM, Ed25519 or P-256) for the admin API\n"
    "  --insecure-admin         admin API without a token (development only)\n"
    "  --sim-key FILE           the simulation's public key (default /var/lib/rune/sim/sim-key.pub)\n"
    "  --allow-sample           accept Trustee's sample TEE evidence (INSECURE: no hardware)\n"
    "  --tls-cert FILE          serve HTTPS with this certificate (PEM) ...\n"
    "  --tls-key FILE           ... and key\n"
    "  --session-ttl SECONDS    session lifetime (default 300)\n"
    "  --token-ttl SECONDS      token lifetime (default 300)\n"
    "  --debug                  log every request\n";

static const char DEFAULT_POLICY[] = "{\"default\": {\"tee\": [\"sgx\", \"tdx\", \"sim\"]}}";

static EVP_PKEY *public_key(const char *path, rune_error_t *err)
{
	cleanup_file FILE *f = fopen(path, "re");
	if (f == NULL) {
		rune_error(err, errno, "open %s", path);
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (k == NULL)
		rune_error(err, 0, "%s: not a PEM public key", path);
	return k;
}

static int parse_long(const char *s, const char *opt, long *out, rune_error_t *err)
{
	unsigned long v;
	if (!rune_parse_ulong(s, &v) || v == 0 || v > 86400 * 365)
		return rune_error(err, EINVAL, "%s: want a positive number of seconds, not \"%s\"", opt, s);
	*out = (long) v;
	return 0;
}

static int parse_args(int argc, char **argv, struct kbs_config *c, rune_error_t *err)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "repository", required_argument, NULL, 'r' },
		{ "policy", required_argument, NULL, 'p' },
		{ "admin-key", required_argument, NULL, 'a' },
		{ "insecure-admin", no_argument, NULL, 'I' },
		{ "sim-key", required_argument, NULL, 's' },
		{ "allow-sample", no_argument, NULL, 'S' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "session-ttl", required_argument, NULL, 'T' },
		{ "token-ttl", required_argument, NULL, 't' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, debug = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			c->listen = optarg;
			break;
		case 'r':
			c->repository = optarg;
			break;
		case 'p':
			c->policy_file = optarg;
			break;
		case 'a':
			c->admin_key_file = optarg;
			break;
		case 'I':
			c->insecure_admin = true;
			break;
		case 's':
			c->sim_key_file = optarg;
			break;
		case 'S':
			c->allow_sample = true;
			break;
		case 'c':
			c->tls_cert = optarg;
			break;
		case 'k':
			c->tls_key = optarg;
			break;
		case 'T':
			if (parse_long(optarg, "--session-ttl", &c->session_ttl, err) < 0)
				return -1;
			break;
		case 't':
			if (parse_long(optarg, "--token-ttl", &c->token_ttl, err) < 0)
				return -1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'h':
			fputs(USAGE, stdout);
			exit(0);
		case 'v':
			printf("rune-kbs version %s\ncommit: %s\n", RUNE_VERSION, RUNE_COMMIT);
			exit(0);
		default:
			return rune_error(err, EINVAL, "invalid option (see rune-kbs --help)");
		}
	}
	if (optind != argc)
		return rune_error(err, EINVAL, "unexpected operand \"%s\" (see rune-kbs --help)", argv[optind]);
	if (!c->tls_cert != !c->tls_key)
		return rune_error(err, EINVAL, "--tls-cert and --tls-key go together");
	rune_log_init(NULL, NULL, debug, NULL);
	return 0;
}

static int setup(struct kbs *k, rune_error_t *err)
{
	cleanup_free char *text = NULL;
	size_t n = 0;
	if (k->cfg.policy_file) {
		if (rune_read_file(k->cfg.policy_file, 1 << 20, &text, &n, err) < 0
		    || kbs_policy_load(text, n, k->cfg.policy_file, &k->policy, err) < 0)
			return -1;
		k->policy_text = take_ptr(text);
	} else {
		if (kbs_policy_load(DEFAULT_POLICY, strlen(DEFAULT_POLICY), "the default policy", &k->policy, err) < 0)
			return -1;
		k->policy_text = xstrdup(DEFAULT_POLICY);
	}
	if (k->cfg.admin_key_file && (k->admin_key = public_key(k->cfg.admin_key_file, err)) == NULL)
		return -1;
	if (k->cfg.sim_key_file) {
		if ((k->sim_key = public_key(k->cfg.sim_key_file, err)) == NULL)
			return rune_error_wrap(err, "--sim-key");
	} else {
		cleanup_error rune_error_t ignored = NULL;
		k->sim_key = public_key("/var/lib/rune/sim/sim-key.pub", &ignored);
	}
	k->token_key = json_pack("{s:s,s:s}", "kty", "EC", "crv", "P-256");
	if (!jose_jwk_gen(NULL, k->token_key))
		return rune_error(err, 0, "generating the token signing key failed");
	if (k->cfg.allow_sample)
		fprintf(stderr, "rune-kbs: WARNING: --allow-sample: evidence from Trustee's sample TEE is accepted; it "
		                "proves nothing (no hardware)\n");
	if (k->cfg.insecure_admin)
		fprintf(stderr, "rune-kbs: WARNING: --insecure-admin: anyone who reaches this port can set resources "
		                "and the policy\n");
	return rune_mkdir_p(k->cfg.repository, 0700, err);
}

int main(int argc, char **argv)
{
	struct kbs k = { .cfg = { .listen = "127.0.0.1:8080",
		                  .repository = "/var/lib/rune/kbs/repository",
		                  .session_ttl = 300,
		                  .token_ttl = 300 } };
	cleanup_error rune_error_t err = NULL;
	pthread_mutex_init(&k.lock, NULL);
	k.sessions = xcalloc(KBS_SESSIONS_MAX, sizeof(*k.sessions));
	int rc = parse_args(argc, argv, &k.cfg, &err);
	if (rc == 0)
		rc = setup(&k, &err);
	if (rc == 0)
		rc = kbs_serve(&k, &err);
	if (rc < 0)
		fprintf(stderr, "rune-kbs: %s\n", err->msg);
	for (size_t i = 0; i < k.n_sessions; i++)
		json_decref(k.sessions[i].pubkey);
	free(k.sessions);
	json_decref(k.policy);
	json_decref(k.token_key);
	free(k.policy_text);
	EVP_PKEY_free(k.sim_key);
	EVP_PKEY_free(k.admin_key);
	return rc < 0 ? (err->status == EINVAL ? 2 : 1) : 0;
}
