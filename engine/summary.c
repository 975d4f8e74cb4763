/* The coordinator's table of peer summaries (see summary.h): a dense array
 * of rows (removal moves the last row into the hole, so iteration is a
 * plain loop) and an open-addressing index from peer id to row. The
 * snapshot for other threads goes through the coordinator's mailbox.
 * Coordinator thread, except cr__summary_snapshot. */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "addr/netclass.h"
#include "engine/internal.h"
#include "engine/summary.h"

#define MIN_ROWS 64u

static size_t slot_of(uint64_t id, size_t mask)
{
	/* ids are worker | slot | generation: mix so neighbouring slots spread */
	uint64_t x = id * 0x9e3779b97f4a7c15ull;
	return (size_t)(x ^ (x >> 29)) & mask;
}

int cr__summaries_init(struct cr__summaries *t, uint64_t secret, uint64_t k0, uint64_t k1,
		       const struct cr_asmap *asmap, unsigned ng_flags)
{
	memset(t, 0, sizeof *t);
	t->keyed_secret = secret;
	t->asmap = asmap;
	t->ng_flags = ng_flags;
	t->rows = malloc(MIN_ROWS * sizeof *t->rows);
	t->index = calloc(MIN_ROWS * 2, sizeof *t->index);
	if (!t->rows || !t->index || cr_ipset_init(&t->addrs, k0, k1) < 0) {
		free(t->rows);
		free(t->index);
		memset(t, 0, sizeof *t);
		return -ENOMEM;
	}
	t->cap = MIN_ROWS;
	t->index_cap = MIN_ROWS * 2;
	return 0;
}

void cr__summaries_clear(struct cr__summaries *t)
{
	free(t->rows);
	free(t->index);
	cr_ipset_clear(&t->addrs);
	memset(t, 0, sizeof *t);
}

static size_t find_slot(const struct cr__summaries *t, uint64_t id)
{
	size_t mask = t->index_cap - 1, i = slot_of(id, mask);
	while (t->index[i] && t->rows[t->index[i] - 1].id != id)
		i = (i + 1) & mask;
	return i;
}

struct cr__peer_summary *cr__summary_find(const struct cr__summaries *t, uint64_t id)
{
	if (!t->index_cap)
		return NULL;
	size_t i = find_slot(t, id);
	return t->index[i] ? &t->rows[t->index[i] - 1] : NULL;
}

/* Doubles rows and index (the index stays at most half full). */
static int grow(struct cr__summaries *t)
{
	size_t cap = t->cap * 2;
	struct cr__peer_summary *rows = realloc(t->rows, cap * sizeof *rows);
	if (!rows)
		return -ENOMEM;
	t->rows = rows;
	uint32_t *index = calloc(cap * 2, sizeof *index);
	if (!index)
		return -ENOMEM;
	free(t->index);
	t->index = index;
	t->index_cap = cap * 2;
	t->cap = cap;
	for (size_t r = 0; r < t->n; r++)
		t->index[find_slot(t, t->rows[r].id)] = (uint32_t)(r + 1);
	return 0;
}

static void fill_from_ev(struct cr__peer_summary *s, const struct cr__peer_ev *ev)
{
	s->token = ev->token;
	s->type = ev->type;
	s->transport = ev->transport;
	s->ready = ev->ready;
	s->relaytxes = ev->relay;
	s->version = ev->version;
	s->services = ev->services;
	s->connected_us = (int64_t)ev->connected_us;
	s->min_ping_us = ev->min_ping_us;
	s->permissions = ev->permissions;
	s->discouraged = ev->prefer_evict;
	s->addr_relay = ev->addr_relay;
	s->addrv2 = ev->addrv2;
}

struct cr__peer_summary *cr__summary_add(struct cr__summaries *t, uint64_t id,
					 const struct cr__peer_ev *ev,
					 const struct sockaddr_storage *addr)
{
	struct cr__peer_summary *s = cr__summary_find(t, id);
	if (s) {
		t->gen++;
		if (s->type < CR_CONN_TYPES && t->by_type[s->type])
			t->by_type[s->type]--;
		fill_from_ev(s, ev);
		if (s->type < CR_CONN_TYPES)
			t->by_type[s->type]++;
		return s;
	}
	if (t->n == t->cap && grow(t) < 0)
		return NULL;
	s = &t->rows[t->n];
	memset(s, 0, sizeof *s);
	s->id = id;
	s->seq = ++t->next_seq;
	s->min_ping_us = -1;
	t->gen++;
	fill_from_ev(s, ev);
	if (addr && cr__sockaddr_to_netaddr(addr, &s->addr, &s->port)) {
		s->net = s->addr.net;
		s->netclass = (uint8_t)cr_addr_netclass(&s->addr);
		s->group_len = (uint8_t)cr_netgroup(s->group, &s->addr, t->asmap, t->ng_flags);
		s->keyed_group = cr_netgroup_keyed(t->keyed_secret, s->group, s->group_len);
		if (cr_ipset_add(&t->addrs, &s->addr) < 0)
			return NULL;
	}
	t->index[find_slot(t, id)] = (uint32_t)(t->n + 1);
	t->n++;
	if (s->type < CR_CONN_TYPES)
		t->by_type[s->type]++;
	return s;
}

void cr__summary_update(struct cr__summaries *t, uint64_t id, const struct cr__peer_ev *ev)
{
	struct cr__peer_summary *s = cr__summary_find(t, id);
	if (!s)
		return;
	if (ev->min_ping_us >= 0 && (s->min_ping_us < 0 || ev->min_ping_us < s->min_ping_us))
		s->min_ping_us = ev->min_ping_us;
	if (ev->last_block_us > s->last_block_us)
		s->last_block_us = ev->last_block_us;
	if (ev->last_tx_us > s->last_tx_us)
		s->last_tx_us = ev->last_tx_us;
	if (ev->addr_relay && (!s->addr_relay || s->addrv2 != ev->addrv2)) {
		s->addr_relay = true;
		s->addrv2 = ev->addrv2;
		t->gen++;
	}
}

bool cr__summary_remove(struct cr__summaries *t, uint64_t id, struct cr__peer_summary *out)
{
	if (!t->index_cap)
		return false;
	size_t mask = t->index_cap - 1, i = find_slot(t, id);
	if (!t->index[i])
		return false;
	size_t r = t->index[i] - 1;
	struct cr__peer_summary *s = &t->rows[r];
	t->gen++;
	if (out)
		*out = *s;
	if (s->net)
		cr_ipset_remove(&t->addrs, &s->addr);
	if (s->type < CR_CONN_TYPES && t->by_type[s->type])
		t->by_type[s->type]--;
	/* backward-shift deletion in the index */
	t->index[i] = 0;
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!t->index[j])
			break;
		size_t home = slot_of(t->rows[t->index[j] - 1].id, mask);
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		t->index[i] = t->index[j];
		t->index[j] = 0;
		i = j;
	}
	/* the last row fills the hole */
	size_t last = t->n - 1;
	if (r != last) {
		t->rows[r] = t->rows[last];
		t->index[find_slot(t, t->rows[r].id)] = (uint32_t)(r + 1);
	}
	t->n--;
	return true;
}

/* ---- snapshot for other threads ----------------------------------------- */

struct cr__summary_snap {
	struct cr__peer_summary *rows;
	size_t n;
};

/* Coordinator side of MAIL_CO_SNAPSHOT (ret < 0: answer that error, as
 * at stop, without a copy). */
void cr__summary_answer(struct cr_engine *e, struct cr_waiter *wt, int ret)
{
	const struct cr__summaries *t = &e->co.sum;
	struct cr__summary_snap *snap = wt->snap;
	snap->rows = NULL;
	snap->n = 0;
	if (ret == 0) {
		snap->rows = malloc((t->n ? t->n : 1) * sizeof *snap->rows);
		if (snap->rows) {
			memcpy(snap->rows, t->rows, t->n * sizeof *snap->rows);
			snap->n = t->n;
		} else {
			ret = -ENOMEM;
		}
	}
	wt->ret = ret;
	atomic_store_explicit(&wt->done, 1, memory_order_release);
	syscall(SYS_futex, &wt->done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int cr__summary_snapshot(struct cr_engine *e, struct cr__peer_summary **rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	if (cr__cur_worker || cr__cur_coord)
		return -EDEADLK; /* the coordinator would wait on itself */
	if (!e->started || atomic_load(&e->stop_flag))
		return -ESHUTDOWN;
	struct cr__summary_snap snap = {0};
	struct cr_waiter wt = {.snap = &snap};
	atomic_init(&wt.done, 0);
	struct cr_mail *c = cr__mail_new(MAIL_CO_SNAPSHOT, 0);
	if (!c)
		return -ENOMEM;
	c->waiter = &wt;
	cr__mailbox_post(e, &e->co.mb, c);
	/* the coordinator answers every such mail, at the latest when it stops
	 * (cr__coord_finish answers what is left with -ESHUTDOWN); a second
	 * without an answer rings its doorbell again, so a lost wake-up
	 * cannot hang the caller */
	struct timespec ts = {1, 0};
	while (!atomic_load_explicit(&wt.done, memory_order_acquire)) {
		long r = syscall(SYS_futex, &wt.done, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		if (r < 0 && errno == ETIMEDOUT && !atomic_load(&wt.done))
			cr__mailbox_kick(e, &e->co.mb);
	}
	if (wt.ret < 0)
		return wt.ret;
	*rows = snap.rows;
	*n = snap.n;
	return 0;
}
