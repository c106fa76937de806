/* rune-attest: attest to a Key Broker Service and fetch resources, shaped
 * like Trustee's kbs-client; also an ocicrypt key provider
 * (`attestation-agent`) for images whose keys the KBS holds. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "attest_cli.h"
#include "cleanup.h"
#include "log.h"
#include "util.h"

#define EXIT_USAGE 2

static const char USAGE[] =
    "usage: rune-attest [options] COMMAND\n"
    "\n"
    "commands:\n"
    "  attest                   attest to the KBS and print the token\n"
    "  get-resource --path P    attest and print resource P (repo/type/tag or kbs:///repo/type/tag);\n"
    "                           repeat --path for several, fetched with one attestation\n"
    "  evidence                 print this TEE's evidence and the report data it binds (no KBS)\n"
    "  keyprovider              an ocicrypt key provider (cmd protocol, on stdin/stdout):\n"
    "                           keywrap seals layer options under keypath=FILE for keyid=kbs:///...;\n"
    "                           keyunwrap attests and fetches that KEK from the KBS\n"
    "\n"
    "options:\n"
    "  --url URL                the KBS (default: aa_kbc_params cc_kbc::URL from $AA_KBC_PARAMS or\n"
    "                           the kernel command line)\n"
    "  --cert-file FILE         the CA certificate (PEM) the KBS's TLS certificate must chain to\n"
    "  --tee NAME               evidence provider: " ATTEST_TEES " (default: detect)\n"
    "  --initdata FILE          init-data (TOML) sent with the evidence\n"
    "  --key-type TYPE          the key the KBS encrypts to: ec (P-256, default), ec-p521, rsa\n"
    "  --root DIR               prefix for TEE device paths (testing with a fake tree)\n"
    "  --nonce N                evidence: the nonce to bind (default random)\n"
    "  --output FILE            get-resource: write the resource to FILE (mode 0600)\n"
    "  --timeout SECONDS        per request to the KBS (default 30)\n"
    "  --debug                  log what happens\n";

static int parse_args(int argc, char **argv, struct attest_cli *c, rune_error_t *err)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },      { "cert-file", required_argument, NULL, 'c' },
		{ "tee", required_argument, NULL, 't' },      { "initdata", required_argument, NULL, 'i' },
		{ "key-type", required_argument, NULL, 'k' }, { "root", required_argument, NULL, 'r' },
		{ "nonce", required_argument, NULL, 'n' },    { "path", required_argument, NULL, 'p' },
		{ "output", required_argument, NULL, 'o' },   { "debug", no_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },  { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },        { NULL, 0, NULL, 0 },
	};
	int ch, debug = 0;
	/* Options may follow the command, as kbs-client takes them. */
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			c->o.url = optarg;
			break;
		case 'c':
			c->o.cert_file = optarg;
			break;
		case 't':
			c->o.tee = optarg;
			break;
		case 'i':
			c->initdata_file = optarg;
			break;
		case 'k':
			c->o.key_type = optarg;
			break;
		case 'r':
			c->o.root = optarg;
			break;
		case 'n':
			c->nonce = optarg;
			break;
		case 'p':
			c->paths = xrealloc(c->paths, (c->n_paths + 1) * sizeof(*c->paths));
			c->paths[c->n_paths++] = optarg;
			break;
		case 'o':
			c->out_file = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'T': {
			unsigned long t;
			if (!rune_parse_ulong(optarg, &t) || t == 0 || t > 3600)
				return rune_error(err, EINVAL, "--timeout: want 1 to 3600 seconds, not \"%s\"", optarg);
			c->o.timeout = (long) t;
			break;
		}
		case 'h':
			fputs(USAGE, stdout);
			exit(0);
		case 'v':
			printf("rune-attest version %s\ncommit: %s\n", RUNE_VERSION, RUNE_COMMIT);
			exit(0);
		default:
			return rune_error(err, EINVAL, "invalid option (see rune-attest --help)");
		}
	}
	rune_log_init(NULL, NULL, debug, NULL);
	c->argc = argc - optind;
	c->argv = argv + optind;
	return 0;
}

int cli_attest_ctx(struct attest_cli *c, struct attest_ctx **out, rune_error_t *err)
{
	cleanup_free char *initdata = NULL;
	if (c->initdata_file) {
		size_t n = 0;
		if (rune_read_file(c->initdata_file, 1 << 20, &initdata, &n, err) < 0)
			return rune_error_wrap(err, "--initdata");
		c->o.initdata = initdata;
		c->o.initdata_len = n;
	}
	int rc = attest_ctx_new(&c->o, out, err);
	c->o.initdata = NULL;
	return rc;
}

static const struct {
	const char *name;
	int (*fn)(struct attest_cli *, rune_error_t *);
} commands[] = { { "attest", cmd_attest },
	         { "get-resource", cmd_get_resource },
	         { "evidence", cmd_evidence },
	         { "keyprovider", cmd_keyprovider } };

static int run(struct attest_cli *c, int argc, char **argv, rune_error_t *err)
{
	if (parse_args(argc, argv, c, err) < 0)
		return rune_error_set_exit(err, EXIT_USAGE);
	if (c->argc != 1) {
		rune_error(err, 0,
		           c->argc ? "one command, not %d operands (see rune-attest --help)"
		                   : "no command given (see rune-attest --help)",
		           c->argc);
		return rune_error_set_exit(err, EXIT_USAGE);
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(c->argv[0], commands[i].name) == 0)
			return commands[i].fn(c, err);
	rune_error(err, 0, "unknown command \"%s\" (see rune-attest --help)", c->argv[0]);
	return rune_error_set_exit(err, EXIT_USAGE);
}

int main(int argc, char **argv)
{
	struct attest_cli c = { 0 };
	cleanup_error rune_error_t err = NULL;
	int rc = run(&c, argc, argv, &err);
	free(c.paths);
	if (rc < 0) {
		fprintf(stderr, "rune-attest: %s\n", err->msg);
		return rune_error_exit_code(err);
	}
	return 0;
}
