/* connringd's options: one table of bitcoind-style options shared by the
 * command line (-name=value) and the config file (name=value), and a
 * sans-IO config-file parser driven line by line (init, line, finish, as
 * wireguard-tools' config.c), so a fuzzer can drive it without files.
 *
 * Precedence as bitcoind: the command line wins over the config file; in
 * the file, top-level lines apply to every chain and lines after a
 * [main]/[test]/[testnet4]/[signet]/[regtest] header only to that chain.
 * -chain, -regtest, -testnet, -testnet4 and -signet each follow that rule,
 * and then at most one of them may select a chain (bitcoind's "Invalid
 * combination ... Can use at most one"): -chain=main on the command line
 * with regtest=1 in the file is refused, not silently regtest. The chain
 * is settled at the file's first [section] (later chain lines may not
 * change it) or at cr_dopts_finish.
 * Every error names the option, and in a file the line number.
 *
 * Pure functions over caller memory: no I/O, no globals; any thread. Only
 * cr_dopts_apply calls the engine (its config setters). */
#ifndef CR_CMD_CONF_H
#define CR_CMD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <connring/connring.h>

#define CR_CONF_LINE_MAX 4096 /* longest config line accepted */
#define CR_CONF_ERR_MAX 256
#define CR_CONF_PATH_MAX 256
#define CR_DOPTS_MAX 128      /* options in conf.c's table (it checks; raise as it grows) */
#define CR_DOPTS_BIND_MAX 8   /* -bind entries */
#define CR_DOPTS_MANUAL_MAX 64 /* -connect and -addnode entries, each */
#define CR_DOPTS_WHITEBIND_MAX 8 /* -whitebind entries */
#define CR_DOPTS_WHITELIST_MAX 256 /* -whitelist entries */

/* Where an option's value came from (bitcoind: the command line wins). */
enum { CR_DOPT_UNSET = 0, CR_DOPT_FILE = 1, CR_DOPT_CMDLINE = 2 };

/* The engine options connringd takes, as given; cr_dopts_apply hands the
 * ones that were set to the engine's config (the others keep the engine's
 * defaults). listen, v2transport and max_connections start at bitcoind's
 * defaults (those -help states), for checks and the start line. */
struct cr_dopts_engine {
	enum cr_chain_id chain;
	uint16_t port;
	bool listen;
	unsigned nbind;
	char bind[CR_DOPTS_BIND_MAX][64];
	unsigned max_connections;
	unsigned workers;
	unsigned nconnect, naddnode;
	char connect[CR_DOPTS_MANUAL_MAX][128];
	char addnode[CR_DOPTS_MANUAL_MAX][128];
	bool v2transport;
	char proxy[128];
	unsigned ping_interval_ms;
	unsigned handshake_timeout_ms; /* -peertimeout (Core's name) */
	/* inbound defence */
	unsigned nwhitebind, nwhitelist;
	char whitebind[CR_DOPTS_WHITEBIND_MAX][128];
	char whitelist[CR_DOPTS_WHITELIST_MAX][128];
	bool whitelist_relay, whitelist_forcerelay;
	unsigned ban_time_s, ban_score;
	bool flood_defence;
	unsigned flood_rate_per_min, flood_burst, flood_group_cap, flood_hold_s;
	bool routable127;
	char external_ip[64]; /* -externalip ("" = none) */
	unsigned recv_budget_mib, send_budget_mib; /* -maxreceivetotal, -maxsendtotal */
};

#define CR_DOPTS_RPCBIND_MAX 8
#define CR_DOPTS_RPCALLOW_MAX 32
#define CR_DOPTS_RPCAUTH_MAX 16

/* The control plane (JSON-RPC, metrics, imports), as bitcoind names it. */
struct cr_dopts_rpc {
	bool server;                          /* -server (default 1, as bitcoind) */
	unsigned nbind;
	char bind[CR_DOPTS_RPCBIND_MAX][80];  /* -rpcbind (used only with -rpcallowip) */
	unsigned port;                        /* -rpcport (0 = the chain's) */
	unsigned nallow;
	char allow[CR_DOPTS_RPCALLOW_MAX][64]; /* -rpcallowip */
	char user[256], password[256];        /* -rpcuser, -rpcpassword */
	unsigned nauth;
	char auth[CR_DOPTS_RPCAUTH_MAX][592]; /* -rpcauth=USER:SALT$HASH */
	char cookiefile[CR_CONF_PATH_MAX];    /* -rpccookiefile */
	unsigned timeout_s;                   /* -rpcservertimeout (30) */
	char metricsbind[80];                 /* -metricsbind=ADDR:PORT ("" = off) */
	char importpeers[CR_CONF_PATH_MAX];   /* -importpeers: a bitcoind peers.dat */
	char importbans[CR_CONF_PATH_MAX];    /* -importbans: a bitcoind banlist.json */
	uint64_t maxuploadtarget;             /* -maxuploadtarget, bytes per 24 h (0 = none) */
};

#define CR_DOPTS_SEED_MAX 16

/* Automatic connections (conf_sched.c). */
struct cr_dopts_sched {
	bool dnsseed, forcednsseed, fixedseeds;
	unsigned nseednode;
	char seednode[CR_DOPTS_SEED_MAX][128];
	unsigned onlynet;                      /* CR_ONLYNET_* mask, 0 = all */
	char asmap[CR_CONF_PATH_MAX];
	unsigned nseedname;                    /* test only */
	char seedname[CR_DOPTS_SEED_MAX][254];
	char dnsserver[64];                    /* test only */
	/* test only, ms (0 = the engine's default) */
	unsigned feeler_ms, extra_peer_ms, stale_check_ms, stale_tip_ms, save_ms, local_addr_ms, addr_send_ms;
};

void cr_dopts_sched_init(struct cr_dopts_sched *s);
/* Hands them to cfg; automatic connections are on unless -connect was
 * given (then DNS seeds are off too, as Core). 0 or -EINVAL with err. */
int cr_dopts_sched_apply(const struct cr_dopts_sched *s, bool have_connect, struct cr_config *cfg,
			 char *err, size_t len);

/* Everything connringd can be told. */
struct cr_dopts {
	struct cr_dopts_engine eng;
	struct cr_dopts_sched sched;
	struct cr_dopts_rpc rpc;
	char datadir[CR_CONF_PATH_MAX];
	char conf[CR_CONF_PATH_MAX];
	char logfile[CR_CONF_PATH_MAX];
	char statsfile[CR_CONF_PATH_MAX]; /* JSON totals + peers on SIGUSR1 and at exit */
	char debug[128];                  /* categories, "" = none, "all" */
	unsigned stats_interval_s;        /* one-line summary period (60) */
	bool help;
	unsigned char origin[CR_DOPTS_MAX]; /* per table option: CR_DOPT_* */
	bool chain_fixed;     /* a section header was seen: the chain can no longer change */
	/* The five ways to name the chain, as given (the command line wins
	 * per option); eng.chain is resolved from them, and two of them set
	 * at once is refused, as bitcoind does. */
	enum cr_chain_id chain_arg;   /* -chain, when its origin is set */
	bool net_flag[4];             /* -regtest, -testnet, -testnet4, -signet */
};

/* Every option unset, at its default. */
void cr_dopts_init(struct cr_dopts *o);

/* Sets one option by name (no leading '-'; "noNAME" negates a boolean, as
 * bitcoind). value NULL means the bare form ("-listen"). Returns 0, or
 * -EINVAL with a readable reason in err. from_cmdline marks the option so
 * config-file values for it are ignored later. */
int cr_dopts_set(struct cr_dopts *o, const char *name, const char *value, bool from_cmdline,
		 char *err, size_t err_len);

/* Parses argv[1..] ("-name=value", "--name=value", "-name"). Returns 0 or
 * -EINVAL with err filled. */
int cr_dopts_cmdline(struct cr_dopts *o, int argc, char **argv, char *err, size_t err_len);

/* Checks the whole set once every source was applied (chain-dependent
 * defaults such as manual peers' default port are filled here). */
int cr_dopts_finish(struct cr_dopts *o, char *err, size_t err_len);

/* The CR_LOG_* mask of a -debug list ("net,proxy", "all"); 0 when the
 * list is empty or names an unknown category. */
unsigned cr_dopts_debug_mask(const char *list);

/* Applies every engine option that was set to cfg through its setter.
 * Returns 0, or -EINVAL with err naming the option and the setter's
 * reason (cr_strerror). */
int cr_dopts_apply(const struct cr_dopts *o, struct cr_config *cfg, char *err, size_t err_len);

/* Writes the -help text into out (always NUL-terminated). */
void cr_dopts_help(char *out, size_t out_len);

/* The config-file parser. */
struct cr_conf {
	struct cr_dopts *o;
	unsigned line;         /* number of the last line fed */
	char section[16];      /* "" at top level */
	int err;               /* sticky: first error, or 0 */
	char msg[CR_CONF_ERR_MAX]; /* "line N: reason" */
};

void cr_conf_init(struct cr_conf *c, struct cr_dopts *o);
/* Feeds one line (without its newline; a trailing '\r' is ignored), len
 * bytes, which may contain anything. Returns 0 or -EINVAL (c->msg says
 * why, with the line number); after an error every call returns it. */
int cr_conf_line(struct cr_conf *c, const char *line, size_t len);
/* Ends the file. Returns c->err. */
int cr_conf_finish(struct cr_conf *c);

#endif
