/* What the engine asks of the system besides io_uring: clocks, kernel
 * randomness and logging (with bitcoind's -debug categories). Every engine
 * file uses these; any thread, except cr__wrandom (the worker's own). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/internal.h"

_Thread_local struct cr_worker *cr__cur_worker;
_Thread_local struct cr_coord *cr__cur_coord;

uint64_t cr__now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t cr__wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void cr__random(void *out, size_t len)
{
	uint8_t *p = out;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			abort(); /* no entropy source: nothing safe to do */
		}
		p += n;
		len -= (size_t)n;
	}
}

/* Kernel randomness drawn 512 bytes at a time: one getrandom() serves
 * several handshakes (nonces, V2 keys, garbage). Used bytes are wiped. */
void cr__wrandom(struct cr_worker *w, void *out, size_t len)
{
	if (len > sizeof w->rnd) {
		cr__random(out, len);
		return;
	}
	if (w->rnd_left < len) {
		cr__random(w->rnd, sizeof w->rnd);
		w->rnd_left = sizeof w->rnd;
	}
	uint8_t *p = w->rnd + (sizeof w->rnd - w->rnd_left);
	memcpy(out, p, len);
	explicit_bzero(p, len);
	w->rnd_left -= (unsigned)len;
}

void cr__log(struct cr_engine *e, enum cr_log_level lvl, enum cr_log_category cat, const char *fmt, ...)
{
	if (!e->cfg.on_log)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	e->cfg.on_log(e->cfg.user, lvl, cat, line);
}

/* bitcoind's -debug= names for the categories that apply to connring. */
static const struct {
	enum cr_log_category cat;
	const char *name;
} categories[] = {
	{ CR_LOG_NET, "net" },
	{ CR_LOG_PROXY, "proxy" },
	{ CR_LOG_ADDRMAN, "addrman" },
	{ CR_LOG_RPC, "rpc" },
};

const char *cr_log_category_str(enum cr_log_category cat)
{
	if (cat == CR_LOG_GENERAL)
		return "";
	for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
		if (categories[i].cat == cat)
			return categories[i].name;
	return "?";
}

unsigned cr_log_category_by_name(const char *name)
{
	if (!name)
		return 0;
	if (strcmp(name, "all") == 0 || strcmp(name, "1") == 0)
		return CR_LOG_ALL;
	for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
		if (strcmp(categories[i].name, name) == 0)
			return categories[i].cat;
	return 0;
}
