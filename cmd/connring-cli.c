/* connring-cli: bitcoin-cli's interface to connringd's RPC. Options as
 * bitcoin-cli (-datadir, -conf, -chain/-regtest/..., -rpcconnect,
 * -rpcport, -rpcuser, -rpcpassword, -rpccookiefile, -rpcclienttimeout,
 * -named, -stdin, -netinfo[=level]), then a method and its arguments.
 * Prints results and errors as bitcoin-cli does ("error code: N" and
 * "error message:" on stderr, exit status abs(code)); an HTTP or
 * connection failure exits 1. Single-threaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <connring/version.h>

#include "cmd/client_args.h"

static void usage(void)
{
	printf("connring-cli %s: send commands to connringd\n\n"
	       "Usage: connring-cli [options] <command> [params]\n"
	       "       connring-cli [options] -named <command> [name=value]...\n"
	       "       connring-cli [options] -netinfo [level]\n\n"
	       "Options:\n"
	       "  -datadir=<dir>          data directory (default ~/.connring)\n"
	       "  -conf=<file>            config file (default <datadir>/connring.conf)\n"
	       "  -chain=<chain>          main, test, testnet4, signet or regtest (or -regtest, ...)\n"
	       "  -rpcconnect=<ip>        server address (default 127.0.0.1)\n"
	       "  -rpcport=<port>         server port (default: the chain's bitcoind RPC port)\n"
	       "  -rpcuser=<user>         user name\n"
	       "  -rpcpassword=<pw>       password (default: use the cookie file)\n"
	       "  -rpccookiefile=<file>   cookie file (default <datadir>/<chain>/.cookie)\n"
	       "  -rpcclienttimeout=<s>   seconds to wait for a reply (default 900, 0 = forever)\n"
	       "  -named                  pass arguments as name=value\n"
	       "  -stdin                  read further arguments from standard input, one per line\n"
	       "  -netinfo[=level]        peer dashboard (level 1-4 adds a peer table)\n"
	       "  -version                print the version and exit\n",
	       CR_VERSION);
}

static int own_option(struct cr_client_opts *o, const char *name, const char *v)
{
	if (strcmp(name, "named") == 0)
		o->named = !v || strcmp(v, "0") != 0;
	else if (strcmp(name, "stdin") == 0)
		o->use_stdin = !v || strcmp(v, "0") != 0;
	else if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0 || strcmp(name, "?") == 0)
		o->help = true;
	else if (strcmp(name, "version") == 0)
		o->version = true;
	else if (strcmp(name, "netinfo") == 0)
		o->netinfo = v ? atoi(v) : 0;
	else
		return 0;
	return 1;
}

/* Prints an error as bitcoin-cli and returns its exit status. */
static int report(int outcome, int code, const char *msg)
{
	if (outcome == CR_CLIENT_RPC_ERROR) {
		fprintf(stderr, "error code: %d\nerror message:\n%s\n", code, msg);
		return abs(code);
	}
	if (outcome == CR_CLIENT_CONNECT)
		fprintf(stderr, "error: Could not connect to the server (%s)\n\n"
				"Make sure the connringd server is running and that you are connecting to "
				"the correct RPC port.\n", msg);
	else
		fprintf(stderr, "error: %s\n", msg);
	return 1;
}

static int netinfo(struct cr_client *c, int level)
{
	json_t *ni = NULL, *peers = NULL;
	int code;
	char msg[4096];
	int r = cr_client_call(c, "getnetworkinfo", NULL, &ni, &code, msg, sizeof(msg));
	if (r == CR_CLIENT_OK)
		r = cr_client_call(c, "getpeerinfo", NULL, &peers, &code, msg, sizeof(msg));
	if (r != CR_CLIENT_OK) {
		json_decref(ni);
		return report(r, code, msg);
	}
	char *text = cr_client_netinfo(ni, peers, level, (int64_t)time(NULL));
	fputs(text ? text : "", stdout);
	free(text);
	json_decref(ni);
	json_decref(peers);
	return 0;
}

/* Arguments after the method plus, with -stdin, one per input line. */
static char **gather_args(int argc, char **argv, bool from_stdin, int *n)
{
	int cap = argc + 16;
	char **v = malloc((size_t)cap * sizeof(*v));
	if (!v)
		return NULL;
	*n = 0;
	for (int i = 0; i < argc; i++)
		v[(*n)++] = strdup(argv[i]);
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	while (from_stdin && (len = getline(&line, &lcap, stdin)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (*n == cap) {
			char **w = realloc(v, (size_t)(cap *= 2) * sizeof(*v));
			if (!w)
				break;
			v = w;
		}
		v[(*n)++] = strdup(line);
	}
	free(line);
	return v;
}

int main(int argc, char **argv)
{
	struct cr_client_opts o;
	char err[1024] = "";
	cr_client_opts_init(&o);
	int first = cr_client_opts_argv(&o, argc, argv, own_option, err, sizeof(err));
	if (first < 0) {
		fprintf(stderr, "Error: %s\n", err);
		return 1;
	}
	if (o.help) {
		usage();
		return 0;
	}
	if (o.version) {
		printf("connring-cli %s\n", CR_VERSION);
		return 0;
	}
	if (cr_client_opts_conf(&o, err, sizeof(err)) != 0) {
		fprintf(stderr, "Error: %s\n", err);
		return 1;
	}
	int nwords;
	char **words = gather_args(argc - first, argv + first, o.use_stdin, &nwords);
	if (!words)
		return 1;
	int ret = 1;
	struct cr_client c;
	if (o.netinfo < 0 && nwords == 0) {
		fprintf(stderr, "error: too few parameters (need at least command)\n");
	} else if (cr_client_connect(&c, &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "error: %s\n", err);
	} else {
		if (o.netinfo >= 0) {
			ret = netinfo(&c, nwords ? atoi(words[0]) : o.netinfo);
		} else {
			json_t *params = cr_client_params(words[0], nwords - 1, words + 1, o.named, err, sizeof(err));
			json_t *result = NULL;
			int code = 0;
			if (!params) {
				fprintf(stderr, "error: %s\n", err);
			} else {
				int r = cr_client_call(&c, words[0], params, &result, &code, err, sizeof(err));
				if (r == CR_CLIENT_OK) {
					char *text = cr_client_format_result(result);
					if (text && text[0])
						printf("%s\n", text);
					free(text);
					ret = 0;
				} else {
					ret = report(r, code, err);
				}
			}
			json_decref(params);
			json_decref(result);
		}
		cr_client_clear(&c);
	}
	for (int i = 0; i < nwords; i++)
		free(words[i]);
	free(words);
	return ret;
}
