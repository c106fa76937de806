/* rune-image: pull, inspect, unpack, list, remove and garbage-collect OCI
 * images, with skopeo's conventions for registry access. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "image_cli.h"
#include "json.h"
#include "log.h"
#include "util.h"

static const char USAGE[] =
    "usage: rune-image [options] COMMAND [args]\n"
    "\n"
    "commands:\n"
    "  pull REF             fetch an image into the store\n"
    "  inspect REF          show a stored image's manifest and config (--config: config only)\n"
    "  unpack REF BUNDLE    make an OCI bundle (rootfs + config.json); --layers: overlay layers\n"
    "  verify REF           what the signature policy decides for REF, and why (nothing is pulled)\n"
    "  list                 list stored images\n"
    "  rm REF               forget an image (its blobs go at the next gc)\n"
    "  gc                   remove blobs no image uses\n"
    "  fsck                 check every blob against its digest and every image's blobs are there\n"
    "\n"
    "options:\n"
    "  --root DIR               image store (default /var/lib/rune/images)\n"
    "  --tls-verify=BOOL        require HTTPS and verify certificates (default true)\n"
    "  --authfile FILE          credentials (default REGISTRY_AUTH_FILE, auth.json, docker config)\n"
    "  --creds USER:PASS        credentials for the registry\n"
    "  --cert-dir DIR           CA (*.crt) and client (*.cert, *.key) certificates\n"
    "  --registries-conf FILE   registries.conf (default CONTAINERS_REGISTRIES_CONF)\n"
    "  --platform OS/ARCH[/VAR] platform to pull (default this host)\n"
    "  --policy FILE            signature policy (default ~/.config/containers/policy.json,\n"
    "                           else /etc/containers/policy.json)\n"
    "  --registries.d DIR       where signatures are stored (default ~/.config/containers/registries.d,\n"
    "                           else /etc/containers/registries.d)\n"
    "  --insecure-policy        no policy: accept any image, signed or not\n"
    "  --decryption-key KEY[:PASSWORD]\n"
    "                           a key for encrypted layers (repeatable): private key (PEM, DER, JWK),\n"
    "                           certificate (PKCS7), GPG secret key, or provider:NAME[:PARAMS]\n"
    "  --parallel N             layers downloaded at once (default 3)\n"
    "  --timeout SECONDS        a registry that stalls this long (no answer, under 1 KiB/s) is\n"
    "                           retried, at most 6 times (default 30)\n"
    "  --format json            machine-readable output\n"
    "  -q, --quiet              no progress\n"
    "  --debug                  log what happens (retries, mirrors)\n";

static int parse_bool(const char *s, int *out)
{
	if (s == NULL || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int parse_args(int argc, char **argv, struct image_cli *c, rune_error_t *err)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "tls-verify", optional_argument, NULL, 'T' },
		{ "authfile", required_argument, NULL, 'A' },
		{ "creds", required_argument, NULL, 'C' },
		{ "cert-dir", required_argument, NULL, 'D' },
		{ "registries-conf", required_argument, NULL, 'R' },
		{ "platform", required_argument, NULL, 'p' },
		{ "parallel", required_argument, NULL, 'j' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "debug", no_argument, NULL, 'd' },
		{ "layers", no_argument, NULL, 'L' },
		{ "config", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ "policy", required_argument, NULL, 'P' },
		{ "registries.d", required_argument, NULL, 'S' },
		{ "insecure-policy", no_argument, NULL, 'I' },
		{ "timeout", required_argument, NULL, 't' },
		{ "decryption-key", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	int ch, debug = 0;
	c->o.access.tls_verify = -1;
	while ((ch = getopt_long(argc, argv, "qhj:", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			c->o.root = optarg;
			break;
		case 'T':
			if (parse_bool(optarg, &c->o.access.tls_verify) < 0)
				return rune_error(err, EINVAL, "--tls-verify: want true or false, not \"%s\"", optarg);
			break;
		case 'A':
			c->o.access.authfile = optarg;
			break;
		case 'C':
			c->o.access.creds = optarg;
			break;
		case 'D':
			c->o.access.cert_dir = optarg;
			break;
		case 'R':
			c->o.access.registries_conf = optarg;
			break;
		case 'p':
			c->o.platform = optarg;
			break;
		case 'P':
			c->o.trust.policy = optarg;
			break;
		case 'S':
			c->o.trust.registries_d = optarg;
			break;
		case 'I':
			c->o.trust.insecure_policy = true;
			break;
		case 'K':
			c->keys = xrealloc(c->keys, (c->o.n_decryption_keys + 1) * sizeof(*c->keys));
			c->keys[c->o.n_decryption_keys++] = (struct image_decryption_key){ .spec = optarg };
			c->o.decryption_keys = c->keys;
			break;
		case 'j':
			if (!rune_parse_ulong(optarg, &n) || n < 1 || n > 64)
				return rune_error(err, EINVAL, "--parallel: want 1 to 64, not \"%s\"", optarg);
			c->o.parallel = n;
			break;
		case 't':
			if (!rune_parse_ulong(optarg, &n) || n < 1 || n > 3600)
				return rune_error(err, EINVAL, "--timeout: want 1 to 3600 seconds, not \"%s\"", optarg);
			c->o.access.timeout = n;
			break;
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
				return rune_error(err, EINVAL, "--format: want json or text, not \"%s\"", optarg);
			c->json = strcmp(optarg, "json") == 0;
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'd':
			debug = 1;
			break;
		case 'L':
			c->layers = true;
			break;
		case 'c':
			c->config_only = true;
			break;
		case 'h':
			fputs(USAGE, stdout);
			exit(0);
		case 'v':
			printf("rune-image version %s\ncommit: %s\n", RUNE_VERSION, RUNE_COMMIT);
			exit(0);
		default:
			return rune_error(err, EINVAL, "invalid option (see rune-image --help)");
		}
	}
	rune_log_init(NULL, NULL, debug, NULL);
	c->argc = argc - optind;
	c->argv = argv + optind;
	return 0;
}

#define EXIT_USAGE 2

int cli_want_operands(struct image_cli *c, int n, const char *usage, rune_error_t *err)
{
	if (c->argc - 1 != n) {
		rune_error(err, 0, "usage: rune-image %s", usage);
		return rune_error_set_exit(err, EXIT_USAGE);
	}
	return 0;
}

void cli_print_json(void *g)
{
	rune_json_gen_print(g, stdout);
}

static const struct {
	const char *name;
	int (*fn)(struct image_cli *, rune_error_t *);
} commands[] = { { "pull", cmd_pull }, { "inspect", cmd_inspect }, { "unpack", cmd_unpack },
	         { "list", cmd_list }, { "ls", cmd_list },         { "rm", cmd_rm },
	         { "gc", cmd_gc },     { "verify", cmd_verify },   { "fsck", cmd_fsck } };

static int run(struct image_cli *c, int argc, char **argv, rune_error_t *err)
{
	if (parse_args(argc, argv, c, err) < 0)
		return rune_error_set_exit(err, EXIT_USAGE);
	if (c->argc < 1) {
		rune_error(err, 0, "no command given (see rune-image --help)");
		return rune_error_set_exit(err, EXIT_USAGE);
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(c->argv[0], commands[i].name) == 0)
			return commands[i].fn(c, err);
	rune_error(err, 0, "unknown command \"%s\" (see rune-image --help)", c->argv[0]);
	return rune_error_set_exit(err, EXIT_USAGE);
}

int main(int argc, char **argv)
{
	struct image_cli c = { 0 };
	cleanup_error rune_error_t err = NULL;

	int rc = run(&c, argc, argv, &err);
	free(c.keys);
	if (rc < 0) {
		cli_progress_done();
		fprintf(stderr, "rune-image: %s\n", err->msg);
		return rune_error_exit_code(err);
	}
	return 0;
}
