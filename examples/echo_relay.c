/* echo_relay: the smallest embedder of libconnring. It listens on
 * 127.0.0.1 (regtest), lets the engine do the version/verack handshake and
 * the pings, and sends every other message a peer sends straight back to
 * that peer. It runs for SECONDS (default 60) or until SIGINT/SIGTERM.
 *
 *   cc echo_relay.c $(pkg-config --cflags --libs connring) -o echo_relay
 *   ./echo_relay [PORT [SECONDS]]     (PORT 0: any free port; printed) */
#define _POSIX_C_SOURCE 200809L /* nanosleep, with -std=c17 */
#include <connring/connring.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t stop;
static struct cr_engine *engine;

static void on_stop(int sig) { (void)sig; stop = 1; }

/* Runs on the peer's worker thread: cr_send from here queues at once. */
static size_t on_message(void *user, uint64_t peer, const char *command,
			 const uint8_t *payload, size_t len)
{
	(void)user;
	int ret = cr_send(engine, peer, command, payload, len);
	if (ret < 0)
		fprintf(stderr, "echo to %016llx: %s\n", (unsigned long long)peer, cr_strerror(ret));
	return 0; /* nothing kept: the payload is done with */
}

static void on_ready(void *user, uint64_t peer, const struct cr_peer_info *info)
{
	(void)user;
	printf("peer %016llx ready: %s %s\n", (unsigned long long)peer, info->addr_str, info->user_agent);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char bind[32];
	snprintf(bind, sizeof bind, "127.0.0.1:%d", argc > 1 ? atoi(argv[1]) : 0);
	int seconds = argc > 2 ? atoi(argv[2]) : 60;
	struct cr_config *cfg = cr_config_new();
	int ret = cfg ? 0 : -1;
	if (!ret)
		ret = cr_config_set_chain(cfg, CR_CHAIN_REGTEST) | cr_config_add_bind(cfg, bind) |
		      cr_config_set_on_peer_ready(cfg, on_ready) | cr_config_set_on_message(cfg, on_message);
	if (!ret)
		ret = cr_engine_new(&engine, cfg);
	cr_config_free(cfg);
	if (!ret)
		ret = cr_engine_start(engine);
	if (ret) {
		fprintf(stderr, "echo_relay: %s\n", ret == -1 ? "out of memory" : cr_strerror(ret));
		cr_engine_free(engine);
		return 1;
	}
	printf("echo_relay %s listening on 127.0.0.1:%u\n", cr_version_string(), cr_engine_port(engine));
	fflush(stdout);
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	for (int i = 0; i < seconds * 10 && !stop; i++)
		nanosleep(&tick, NULL);
	cr_engine_free(engine); /* stops: flushes, closes every peer, joins the threads */
	return 0;
}
