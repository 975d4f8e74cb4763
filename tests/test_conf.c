/* Tests of connringd's options and config-file parser (cmd/conf.c): every
 * option's good and bad values with their bounds, precedence of the command
 * line, sections, negation, and every kind of bad line with its number. */
#include <errno.h>

#include "cmd/conf.h"
#include "tests/check.h"

static int feed(struct cr_dopts *o, struct cr_conf *c, const char *text)
{
	cr_conf_init(c, o);
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (cr_conf_line(c, p, n) < 0)
			return c->err;
		p += n + (nl ? 1 : 0);
	}
	return cr_conf_finish(c);
}

static int cmdline(struct cr_dopts *o, char *err, size_t len, int argc, char **argv)
{
	cr_dopts_init(o);
	return cr_dopts_cmdline(o, argc, argv, err, len);
}

#define ARGV(...) (sizeof((char *[]){"connringd", __VA_ARGS__}) / sizeof(char *)), \
		  ((char *[]){"connringd", __VA_ARGS__})

static void test_conf_cmdline_values(void)
{
	struct cr_dopts o;
	char err[256];
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-chain=regtest", "-port=18555", "-listen=0",
						   "-bind=127.0.0.1", "-bind=[::1]:18556",
						   "-connect=127.0.0.1:18444", "-addnode=example.org",
						   "-maxconnections=500", "-workers=3", "-v2transport=0",
						   "-proxy=127.0.0.1:9050", "-datadir=/tmp", "-debug",
						   "-logfile=d.log", "-pinginterval=2", "-peertimeout=7")),
		 0);
	CHECK_EQ(o.eng.chain, CR_CHAIN_REGTEST);
	CHECK_EQ(o.eng.port, 18555);
	CHECK(!o.eng.listen);
	CHECK_EQ(o.eng.nbind, 2);
	CHECK(strcmp(o.eng.bind[1], "[::1]:18556") == 0);
	CHECK_EQ(o.eng.nconnect, 1);
	CHECK_EQ(o.eng.naddnode, 1);
	CHECK_EQ(o.eng.max_connections, 500);
	CHECK_EQ(o.eng.workers, 3);
	CHECK(!o.eng.v2transport);
	CHECK(strcmp(o.eng.proxy, "127.0.0.1:9050") == 0);
	CHECK(strcmp(o.datadir, "/tmp") == 0);
	CHECK(strcmp(o.debug, "all") == 0);
	CHECK(strcmp(o.logfile, "d.log") == 0);
	CHECK_EQ(o.eng.ping_interval_ms, 2000);
	CHECK_EQ(o.eng.handshake_timeout_ms, 7000);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), 0);
	/* A manual peer without a port gets the chain's default. */
	CHECK(strcmp(o.eng.addnode[0], "example.org:18444") == 0);
	CHECK(strcmp(o.eng.connect[0], "127.0.0.1:18444") == 0);

	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("--regtest", "-nolisten", "-addnode=::1")), 0);
	CHECK_EQ(o.eng.chain, CR_CHAIN_REGTEST);
	CHECK(!o.eng.listen);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), 0);
	CHECK(strcmp(o.eng.addnode[0], "[::1]:18444") == 0);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-nolisten=0", "-h")), 0);
	CHECK(o.eng.listen);
	CHECK(o.help);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-testnet")), 0);
	CHECK_EQ(o.eng.chain, CR_CHAIN_TESTNET3);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-chain=testnet4", "-connect=1.2.3.4", "-noconnect")), 0);
	CHECK_EQ(o.eng.chain, CR_CHAIN_TESTNET4);
	CHECK_EQ(o.eng.nconnect, 0);
}

static void expect_bad(const char *arg, const char *needle)
{
	struct cr_dopts o;
	char err[256] = "";
	char *argv[] = {"connringd", (char *)arg};
	cr_dopts_init(&o);
	int r = cr_dopts_cmdline(&o, 2, argv, err, sizeof(err));
	CHECK_EQ(r, -EINVAL);
	if (!strstr(err, needle)) {
		fprintf(stderr, "for %s: error '%s' lacks '%s'\n", arg, err, needle);
		CHECK(!"error text");
	}
}

static void test_conf_cmdline_errors(void)
{
	expect_bad("-chain=mainnet", "expected main, test");
	expect_bad("-port=0", "1..65535");
	expect_bad("-port=65536", "1..65535");
	expect_bad("-port=-1", "1..65535");
	expect_bad("-port=12x", "1..65535");
	expect_bad("-port", "needs a number");
	expect_bad("-listen=2", "expected 0 or 1");
	expect_bad("-listen=yes", "expected 0 or 1");
	expect_bad("-bind=localhost", "numeric address");
	expect_bad("-bind=127.0.0.1:0", "numeric address");
	expect_bad("-bind=127.0.0.1:65536", "numeric address");
	expect_bad("-proxy=127.0.0.1", "numeric ip:port");
	expect_bad("-proxy=tor:9050", "numeric ip:port");
	expect_bad("-connect=a b", "host[:port]");
	expect_bad("-connect=", "host[:port]");
	expect_bad("-maxconnections=1000001", "1..1000000");
	/* What the engine would refuse is refused here, with the option named
	 * (not "engine failed to start: Invalid argument" later). */
	expect_bad("-maxconnections=0", "-maxconnections=0: expected a whole number in 1..1000000");
	expect_bad("-workers=65", "-workers=65: expected a whole number in 0..64");
	expect_bad("-workers=257", "0..64");
	expect_bad("-maxreceivetotal=7", "-maxreceivetotal=7: expected a whole number in 8..1048576");
	expect_bad("-maxsendtotal=lots", "-maxsendtotal=lots: expected a whole number");
	expect_bad("-pinginterval=0", "1..86400");
	expect_bad("-peertimeout=0", "1..86400");
	expect_bad("-debug=NET", "categories");
	expect_bad("-frobnicate=1", "unknown option -frobnicate");
	expect_bad("-noport", "not a yes/no option");
	expect_bad("listen", "unexpected argument");
	expect_bad("-", "unexpected argument");
	expect_bad("-=1", "bad option");
	expect_bad("-datadir", "needs a value");
	/* Bounds of counts and lengths: n entries fit, n+1 do not. */
	struct cr_dopts o;
	char err[256];
	cr_dopts_init(&o);
	for (int i = 0; i < CR_DOPTS_BIND_MAX; i++)
		CHECK_EQ(cr_dopts_set(&o, "bind", "127.0.0.1", true, err, sizeof(err)), 0);
	CHECK_EQ(cr_dopts_set(&o, "bind", "127.0.0.1", true, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "more than 8 entries") != NULL);
	for (int i = 0; i < CR_DOPTS_MANUAL_MAX; i++)
		CHECK_EQ(cr_dopts_set(&o, "connect", "h", true, err, sizeof(err)), 0);
	CHECK_EQ(cr_dopts_set(&o, "connect", "h", true, err, sizeof(err)), -EINVAL);
	char host[200];
	memset(host, 'a', sizeof(host));
	host[127] = '\0';
	cr_dopts_init(&o);
	CHECK_EQ(cr_dopts_set(&o, "addnode", host, true, err, sizeof(err)), 0);
	host[127] = 'a';
	host[128] = '\0';
	CHECK_EQ(cr_dopts_set(&o, "addnode", host, true, err, sizeof(err)), -EINVAL);
	/* Too many manual peers for the connection limit. */
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-maxconnections=1", "-connect=a", "-addnode=b")), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "-maxconnections=1") != NULL);
}

static void test_conf_file_values_and_precedence(void)
{
	struct cr_dopts o;
	struct cr_conf c;
	char err[256];
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-port=20000", "-connect=9.9.9.9")), 0);
	CHECK_EQ(feed(&o, &c,
		      "# a comment\n"
		      "  \n"
		      "chain = regtest\r\n"
		      "port=1234\n"
		      "connect=1.1.1.1\n"
		      "listen=0\n"
		      "\tmaxconnections = 64 \n"
		      "[main]\n"
		      "workers=7\n"
		      "[regtest]\n"
		      "workers=2\n"
		      "addnode=node.example:18444\n"),
		 0);
	CHECK_EQ(c.line, 12);
	CHECK_EQ(o.eng.chain, CR_CHAIN_REGTEST);
	CHECK_EQ(o.eng.port, 20000);   /* command line wins */
	CHECK_EQ(o.eng.nconnect, 1);
	CHECK(strcmp(o.eng.connect[0], "9.9.9.9") == 0);
	CHECK(!o.eng.listen);
	CHECK_EQ(o.eng.max_connections, 64);
	CHECK_EQ(o.eng.workers, 2);    /* only the [regtest] section applies */
	CHECK_EQ(o.eng.naddnode, 1);
}

static void expect_line_error(const char *text, unsigned line, const char *needle)
{
	struct cr_dopts o;
	struct cr_conf c;
	cr_dopts_init(&o);
	CHECK_EQ(feed(&o, &c, text), -EINVAL);
	CHECK_EQ(c.line, line);
	char want[32];
	snprintf(want, sizeof(want), "line %u: ", line);
	if (strncmp(c.msg, want, strlen(want)) != 0 || !strstr(c.msg, needle)) {
		fprintf(stderr, "error '%s' lacks '%s%s'\n", c.msg, want, needle);
		CHECK(!"error text");
	}
	/* Sticky. */
	CHECK_EQ(cr_conf_line(&c, "port=1", 6), -EINVAL);
	CHECK_EQ(c.line, line);
}

static void test_conf_file_errors(void)
{
	expect_line_error("port=1\nlisten\n", 2, "is not name=value");
	expect_line_error("-port=1\n", 1, "without the leading '-'");
	expect_line_error("port=1 # one\n", 1, "comments go on their own line");
	expect_line_error("\n\n=1\n", 3, "missing option name");
	expect_line_error("conf=/etc/x\n", 1, "cannot be set inside");
	expect_line_error("regtest.port=1\n", 1, "use a [section]");
	expect_line_error("[regtest\n", 1, "section header");
	expect_line_error("[]\n", 1, "section header");
	expect_line_error("[mainnet]\n", 1, "unknown section");
	expect_line_error("[testnet3]\n", 1, "unknown section");
	expect_line_error("frob=1\n", 1, "unknown option -frob");
	expect_line_error("port=99999\n", 1, "1..65535");
	/* Lines of another chain's section are still checked. */
	expect_line_error("[signet]\nport=0\n", 2, "1..65535");
	expect_line_error("[regtest]\nchain=signet\n", 2, "cannot change");

	/* Line length: CR_CONF_LINE_MAX is accepted (as a comment), one more is not. */
	static char big[CR_CONF_LINE_MAX + 2];
	memset(big, ' ', sizeof(big));
	big[0] = '#';
	struct cr_dopts o;
	struct cr_conf c;
	cr_dopts_init(&o);
	cr_conf_init(&c, &o);
	CHECK_EQ(cr_conf_line(&c, big, CR_CONF_LINE_MAX), 0);
	CHECK_EQ(cr_conf_line(&c, big, CR_CONF_LINE_MAX + 1), -EINVAL);
	CHECK(strstr(c.msg, "line 2: longer than") != NULL);
	/* An embedded NUL. */
	cr_conf_init(&c, &o);
	CHECK_EQ(cr_conf_line(&c, "port=1\0x", 8), -EINVAL);
	CHECK(strstr(c.msg, "NUL") != NULL);
}

/* The options reach the engine's config through its setters; an unset
 * option leaves the engine's default. -debug names bitcoind categories. */
static void test_conf_apply_and_debug(void)
{
	struct cr_dopts o;
	char err[256];
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-regtest", "-bind=127.0.0.1", "-connect=1.2.3.4",
						   "-proxy=127.0.0.1:9050", "-workers=4")),
		 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), 0);
	/* The parser refuses what a setter would; a setter's refusal is still
	 * reported with the option's name (forced here past the parser). */
	o.eng.workers = CR_WORKERS_MAX + 1;
	struct cr_config *cfg = cr_config_new();
	CHECK_EQ(cr_dopts_apply(&o, cfg, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "-workers: config: value out of range") != NULL);
	cr_config_free(cfg);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-regtest", "-bind=127.0.0.1", "-connect=1.2.3.4",
						   "-proxy=127.0.0.1:9050", "-pinginterval=5")),
		 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), 0);
	cfg = cr_config_new();
	CHECK_EQ(cr_dopts_apply(&o, cfg, err, sizeof(err)), 0);
	cr_config_free(cfg);
	/* -debug: a list of known categories */
	CHECK_EQ(cr_dopts_debug_mask("net"), CR_LOG_NET);
	CHECK_EQ(cr_dopts_debug_mask("net,proxy"), CR_LOG_NET | CR_LOG_PROXY);
	CHECK_EQ(cr_dopts_debug_mask("all"), CR_LOG_ALL);
	CHECK_EQ(cr_dopts_debug_mask(""), 0);
	CHECK_EQ(cr_dopts_debug_mask("net,"), CR_LOG_NET);
	CHECK_EQ(cr_dopts_debug_mask("net,,proxy"), 0);
	CHECK_EQ(cr_dopts_debug_mask("mempool"), 0);
	expect_bad("-debug=mempool", "expected categories such as net, proxy or all");
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-debug=net,proxy")), 0);
	CHECK(strcmp(o.debug, "net,proxy") == 0);
	/* more options than 64 fit the origin table (the old bitmask did not) */
	CHECK(CR_DOPTS_MAX > 64);
}

/* The inbound-defence options: Core's permission syntax and messages,
 * ban time and score, flood knobs, and their way into the engine config. */
static void test_conf_defence(void)
{
	struct cr_dopts o;
	char err[256];
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-regtest", "-whitebind=noban@127.0.0.1:18999",
						   "-whitelist=addr,out@10.0.0.0/8", "-whitelist=1.2.3.4",
						   "-whitelistrelay=0", "-bantime=600", "-banscore=100",
						   "-floodrate=30", "-floodburst=4", "-floodgroupcap=2",
						   "-floodhold=5", "-routable127=1")),
		 0);
	CHECK_EQ(o.eng.nwhitebind, 1);
	CHECK_EQ(o.eng.nwhitelist, 2);
	CHECK(!o.eng.whitelist_relay);
	CHECK_EQ(o.eng.ban_time_s, 600);
	CHECK_EQ(o.eng.ban_score, 100);
	CHECK_EQ(o.eng.flood_rate_per_min, 30);
	CHECK(o.eng.routable127);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), 0);
	struct cr_config *cfg = cr_config_new();
	CHECK_EQ(cr_dopts_apply(&o, cfg, err, sizeof(err)), 0);
	cr_config_free(cfg);
	expect_bad("-whitelist=bogus@1.2.3.4", "Invalid P2P permission: 'bogus'");
	expect_bad("-whitelist=in@1.2.3.4", "Only direction was set, no permissions: 'in@1.2.3.4'");
	expect_bad("-whitelist=noban@127.0.0.1:230", "Invalid netmask specified in -whitelist: '127.0.0.1:230'");
	expect_bad("-whitebind=127.0.0.1", "Need to specify a port with -whitebind: '127.0.0.1'");
	expect_bad("-whitebind=out@127.0.0.1:7", "whitebind may only be used for incoming connections");
	expect_bad("-bantime=0", "expected a whole number");
	expect_bad("-floodrate=0", "expected a whole number");
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-listen=0", "-whitebind=127.0.0.1:18999")), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "Cannot set -bind or -whitebind together with -listen=0") != NULL);
	/* -nowhitelist clears the list */
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-whitelist=1.2.3.4", "-nowhitelist")), 0);
	CHECK_EQ(o.eng.nwhitelist, 0);
}

/* -chain and -regtest/-testnet/-testnet4/-signet: the command line wins
 * per option, and two that select a chain are refused wherever they come
 * from (bitcoind's "Can use at most one"). */
static void test_conf_chain_precedence(void)
{
	struct cr_dopts o;
	struct cr_conf c;
	char err[256];
	/* -chain=main on the command line, regtest=1 in the file: refused
	 * (it used to start on regtest). */
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-chain=main")), 0);
	CHECK_EQ(feed(&o, &c, "regtest=1\n"), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "-chain=main and -regtest: invalid combination") != NULL);
	/* Both on the command line, in either order: refused. */
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-regtest", "-chain=main")), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "can use at most one") != NULL);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-chain=main", "-regtest")), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), -EINVAL);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-testnet4", "-signet")), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "-testnet4 and -signet") != NULL);
	/* The file alone: two chain lines are refused too. */
	cr_dopts_init(&o);
	CHECK_EQ(feed(&o, &c, "chain=signet\ntestnet=1\n"), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), -EINVAL);
	/* ... and found at the first [section], with the line number. */
	cr_dopts_init(&o);
	CHECK_EQ(feed(&o, &c, "chain=signet\ntestnet=1\n[signet]\nport=1\n"), -EINVAL);
	CHECK(strstr(c.msg, "line 3:") != NULL && strstr(c.msg, "invalid combination") != NULL);
	/* The command line wins per option: -regtest=0 there turns off the
	 * file's regtest=1, so the file's chain=signet stands alone. */
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-regtest=0")), 0);
	CHECK_EQ(feed(&o, &c, "regtest=1\nchain=signet\n"), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), 0);
	CHECK_EQ(o.eng.chain, CR_CHAIN_SIGNET);
	/* -chain on the command line and the same -chain in the file: one
	 * option, the command line's value. */
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-chain=regtest")), 0);
	CHECK_EQ(feed(&o, &c, "chain=signet\n[regtest]\nport=18555\n"), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), 0);
	CHECK_EQ(o.eng.chain, CR_CHAIN_REGTEST);
	CHECK_EQ(o.eng.port, 18555); /* the [regtest] section applied */
	/* A negated or zero flag selects nothing: -noregtest -chain=test. */
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-noregtest", "-chain=test")), 0);
	CHECK_EQ(cr_dopts_finish(&o, err, sizeof(err)), 0);
	CHECK_EQ(o.eng.chain, CR_CHAIN_TESTNET3);
	/* Inside a section a chain line may agree with the chain, not change it. */
	cr_dopts_init(&o);
	CHECK_EQ(feed(&o, &c, "regtest=1\n[regtest]\nregtest=1\n"), 0);
	cr_dopts_init(&o);
	CHECK_EQ(feed(&o, &c, "regtest=1\n[regtest]\nsignet=1\n"), -EINVAL);
	CHECK(strstr(c.msg, "cannot change") != NULL);
}

/* -asmap=<file> then -noasmap: no asmap at all (not a file named "0") */
static void test_conf_noasmap(void)
{
	struct cr_dopts o;
	char err[256];
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-asmap=ip_asn.map", "-noasmap", "-dnsserver=127.0.0.1:53",
						   "-nodnsserver")),
		 0);
	CHECK_EQ(o.sched.asmap[0], 0);
	CHECK_EQ(o.sched.dnsserver[0], 0);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-asmap=ip_asn.map")), 0);
	CHECK(strcmp(o.sched.asmap, "ip_asn.map") == 0);
	/* the scheduler's options through the common kinds: values, ranges */
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-dnsseed=0", "-nofixedseeds", "-seednode=127.0.0.1:1",
						   "-seednode=127.0.0.2", "-dnsseedname=seed.test",
						   "-feelerinterval=250", "-staletip=86400000", "-onlynet=ipv4")),
		 0);
	CHECK(!o.sched.dnsseed && !o.sched.fixedseeds);
	CHECK_EQ(o.sched.nseednode, 2);
	CHECK(strcmp(o.sched.seednode[1], "127.0.0.2") == 0);
	CHECK_EQ(o.sched.nseedname, 1);
	CHECK_EQ(o.sched.feeler_ms, 250);
	CHECK_EQ(o.sched.stale_tip_ms, 86400000);
	CHECK_EQ(o.sched.onlynet, CR_ONLYNET_IPV4);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-feelerinterval=0")), -EINVAL);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-staletip=86400001")), -EINVAL);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-dnsseed=2")), -EINVAL);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-seednode=a b")), -EINVAL);
	CHECK_EQ(cmdline(&o, err, sizeof(err), ARGV("-seednode=127.0.0.1", "-noseednode")), 0);
	CHECK_EQ(o.sched.nseednode, 0);
}

int main(void)
{
	RUN(test_conf_cmdline_values);
	RUN(test_conf_cmdline_errors);
	RUN(test_conf_file_values_and_precedence);
	RUN(test_conf_file_errors);
	RUN(test_conf_apply_and_debug);
	RUN(test_conf_defence);
	RUN(test_conf_chain_precedence);
	RUN(test_conf_noasmap);
	return check_done();
}
