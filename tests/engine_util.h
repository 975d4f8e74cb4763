/* Helpers for the engine tests: an engine with recording callbacks, and a
 * bounded wait for a condition. Callbacks run on worker threads, so the
 * recorder takes a mutex. Tests only. */
#ifndef CR_TESTS_ENGINE_UTIL_H
#define CR_TESTS_ENGINE_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <connring/connring.h>

#define REC_MAX 64

struct rec {
	pthread_mutex_t mu;
	struct cr_engine *e;
	const char *name;
	unsigned ready, closed, msgs;
	uint64_t ready_ids[REC_MAX];
	struct cr_peer_info ready_info[4];
	uint64_t closed_ids[REC_MAX];
	enum cr_close_reason closed_reason[REC_MAX];
	bool closed_was_ready[REC_MAX];
	uint64_t closed_us[REC_MAX]; /* CLOCK_MONOTONIC when each close was reported */
	uint64_t msg_bytes;
	uint64_t last_msg_peer;
	char last_cmd[13];
	uint8_t first_byte, last_byte;
	uint64_t sum;         /* position-weighted sum of every payload byte */
	bool hold;            /* on_message keeps every payload (flood test) */
	uint64_t held;
	bool verbose;
};

static void rec_ready(void *u, uint64_t id, const struct cr_peer_info *info)
{
	struct rec *r = u;
	pthread_mutex_lock(&r->mu);
	if (r->ready < 4)
		r->ready_info[r->ready] = *info;
	if (r->ready < REC_MAX)
		r->ready_ids[r->ready] = id;
	r->ready++;
	pthread_mutex_unlock(&r->mu);
}

static size_t rec_msg(void *u, uint64_t id, const char *cmd, const uint8_t *p, size_t len)
{
	struct rec *r = u;
	pthread_mutex_lock(&r->mu);
	r->msgs++;
	r->msg_bytes += len;
	r->last_msg_peer = id;
	snprintf(r->last_cmd, sizeof r->last_cmd, "%s", cmd);
	if (len) {
		r->first_byte = p[0];
		r->last_byte = p[len - 1];
		for (size_t i = 0; i < len; i++)
			r->sum += (uint64_t)p[i] * (i % 251 + 1);
	}
	size_t keep = r->hold ? len : 0;
	r->held += keep;
	pthread_mutex_unlock(&r->mu);
	return keep;
}

static void rec_closed(void *u, uint64_t id, bool ready, enum cr_close_reason reason, const char *text)
{
	struct rec *r = u;
	pthread_mutex_lock(&r->mu);
	if (r->closed < REC_MAX) {
		r->closed_ids[r->closed] = id;
		r->closed_reason[r->closed] = reason;
		r->closed_was_ready[r->closed] = ready;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r->closed_us[r->closed] = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	}
	r->closed++;
	if (r->verbose)
		fprintf(stderr, "[%s] closed %llx: %s\n", r->name, (unsigned long long)id, text);
	pthread_mutex_unlock(&r->mu);
}

static void rec_log(void *u, enum cr_log_level lvl, enum cr_log_category cat, const char *text)
{
	struct rec *r = u;
	(void)cat;
	if (r->verbose || lvl <= CR_LOG_WARN)
		fprintf(stderr, "[%s] %s\n", r->name, text);
}

/* The usual listen address of a test engine: loopback, any free port. */
#define TEST_BIND "127.0.0.1:0"

/* A config for loopback tests: regtest magic, small rings, recording
 * callbacks into r; listening on bind (NULL: not listening). The caller
 * frees it (cr_config_free) once its engine is created. */
static struct cr_config *test_config(struct rec *r, const char *name, const char *bind)
{
	struct cr_config *c = cr_config_new();
	if (!c) {
		fprintf(stderr, "test_config: out of memory\n");
		abort();
	}
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	r->name = name;
	r->verbose = getenv("CR_TEST_VERBOSE") != NULL;
	int bad = cr_config_set_chain(c, CR_CHAIN_REGTEST) | cr_config_set_listen(c, bind != NULL) |
		  (bind ? cr_config_add_bind(c, bind) : 0) | cr_config_set_workers(c, 2) |
		  cr_config_set_recv_buf_count(c, 256) | cr_config_set_recv_buf_size(c, 16384) |
		  cr_config_set_ring_entries(c, 256) | cr_config_set_max_peers_per_worker(c, 512) |
		  cr_config_set_user(c, r) | cr_config_set_on_peer_ready(c, rec_ready) |
		  cr_config_set_on_message(c, rec_msg) | cr_config_set_on_peer_closed(c, rec_closed) |
		  cr_config_set_on_log(c, rec_log);
	if (bad) {
		fprintf(stderr, "test_config: a setter failed (bind '%s')\n", bind ? bind : "");
		abort();
	}
	return c;
}

static inline unsigned rec_get(struct rec *r, const unsigned *field)
{
	pthread_mutex_lock(&r->mu);
	unsigned v = *field;
	pthread_mutex_unlock(&r->mu);
	return v;
}

static inline void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Waits up to ms for cond (re-evaluated every 5 ms); returns it. */
#define WAIT_FOR(cond, ms)                                                    \
	({                                                                    \
		bool ok_ = false;                                             \
		for (unsigned t_ = 0; t_ < (ms) / 5 + 1; t_++) {              \
			if ((cond)) {                                         \
				ok_ = true;                                   \
				break;                                        \
			}                                                     \
			sleep_ms(5);                                          \
		}                                                             \
		ok_;                                                          \
	})

/* A hung engine test fails with a message instead of waiting for ctest's
 * timeout; stdout unbuffered so the last test started is visible. */
static void watchdog_fire(int sig)
{
	(void)sig;
	static const char msg[] = "watchdog: engine test hung (120 s), aborting\n";
	if (write(2, msg, sizeof msg - 1) < 0)
		_exit(3);
	abort();
}

static inline void test_watchdog(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	signal(SIGALRM, watchdog_fire);
	alarm(120);
	/* Raw test sockets write to peers the engine may already have closed
	 * (that is what fault tests provoke): EPIPE, not a killed test. */
	signal(SIGPIPE, SIG_IGN);
}

static inline bool sanitize_build(void)
{
	return getenv("CR_SANITIZE") != NULL;
}

#ifdef CHECK
/* Nothing a closed peer held is left: the gauges of held memory and the
 * pools are back to zero once every peer is gone. */
static inline void check_nothing_held(struct cr_engine *e, const char *when)
{
	struct cr_totals t;
	bool ok = WAIT_FOR((cr_engine_totals(e, &t, sizeof t), t.peers == 0 && t.fixed_files == 0 &&
			    t.recv_held_bytes == 0 && t.recv_reserved_bytes == 0 &&
			    t.send_queued_bytes == 0 && t.pool_bufs_in_use == 0 &&
			    t.pool_segs_in_use == 0), 5000);
	CHECK(ok);
	if (!ok)
		fprintf(stderr, "  %s: peers %llu fixed files %llu recv held %llu reserved %llu queued %llu "
			"bufs %llu segs %llu\n", when, (unsigned long long)t.peers,
			(unsigned long long)t.fixed_files, (unsigned long long)t.recv_held_bytes,
			(unsigned long long)t.recv_reserved_bytes, (unsigned long long)t.send_queued_bytes,
			(unsigned long long)t.pool_bufs_in_use, (unsigned long long)t.pool_segs_in_use);
}

#endif

#endif
