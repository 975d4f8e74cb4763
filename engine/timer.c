/* A hashed timer wheel per worker: one timer per peer (its next deadline of
 * any kind), CR_WHEEL_SLOTS slots of CR_TICK_MS each, and one io_uring
 * timeout that is armed only while the wheel holds a timer, so an idle
 * worker sleeps. Setting, cancelling and firing are O(1) per timer; a timer
 * further away than one turn stays in its slot until its turn comes. Owner
 * worker thread only. */
#include <string.h>

#include "engine/internal.h"

void cr_wheel_init(struct cr_wheel *wh)
{
	for (unsigned i = 0; i < CR_WHEEL_SLOTS; i++)
		wh->slots[i].prev = wh->slots[i].next = &wh->slots[i];
	wh->start_us = cr_now_us();
	wh->now_tick = 0;
	wh->armed = 0;
	wh->tick_pending = false;
}

static uint64_t tick_of(const struct cr_wheel *wh, uint64_t us)
{
	return us <= wh->start_us ? 0 : (us - wh->start_us) / (CR_TICK_MS * 1000u);
}

void cr_timer_cancel(struct cr_worker *w, struct cr_timer *t)
{
	if (!t->next)
		return;
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = NULL;
	w->wheel.armed--;
}

void cr_timer_set(struct cr_worker *w, struct cr_timer *t, uint64_t due_us)
{
	struct cr_wheel *wh = &w->wheel;
	cr_timer_cancel(w, t);
	uint64_t due = tick_of(wh, due_us) + 1; /* round up: never fire early */
	if (due <= wh->now_tick)
		due = wh->now_tick + 1;
	t->due_tick = due;
	struct cr_timer *head = &wh->slots[due % CR_WHEEL_SLOTS];
	t->next = head;
	t->prev = head->prev;
	head->prev->next = t;
	head->prev = t;
	wh->armed++;
	cr_wheel_arm(w);
}

/* Arms the one tick timeout if any timer waits and none is in flight. */
void cr_wheel_arm(struct cr_worker *w)
{
	struct cr_wheel *wh = &w->wheel;
	if (wh->tick_pending || !wh->armed || w->done)
		return;
	wh->ts.tv_sec = 0;
	wh->ts.tv_nsec = CR_TICK_MS * 1000000ll;
	struct io_uring_sqe *sqe = cr_sqe(&w->ring);
	io_uring_prep_timeout(sqe, &wh->ts, 0, 0);
	io_uring_sqe_set_data64(sqe, cr_ud(OP_TICK, 0, 0));
	wh->tick_pending = true;
}

/* The peer that embeds a timer (each peer has exactly one). */
static struct cr_peer *peer_of(struct cr_timer *t)
{
	return (struct cr_peer *)((char *)t - offsetof(struct cr_peer, tm));
}

/* Runs every slot between the last processed tick and now. A long stall
 * (more than a turn) walks each slot once. */
void cr_wheel_tick(struct cr_worker *w)
{
	struct cr_wheel *wh = &w->wheel;
	wh->tick_pending = false;
	uint64_t now = tick_of(wh, cr_now_us());
	uint64_t from = wh->now_tick + 1;
	if (now >= from + CR_WHEEL_SLOTS)
		from = now - CR_WHEEL_SLOTS + 1;
	for (uint64_t tk = from; tk <= now; tk++) {
		wh->now_tick = tk;
		struct cr_timer *head = &wh->slots[tk % CR_WHEEL_SLOTS];
		/* Fired timers may re-arm into this very slot (for a later
		 * turn): detach the list first and walk the detached copy. */
		struct cr_timer list = { .next = head->next, .prev = head->prev };
		if (list.next == head)
			continue;
		list.next->prev = &list;
		list.prev->next = &list;
		head->next = head->prev = head;
		while (list.next != &list) {
			struct cr_timer *t = list.next;
			t->prev->next = t->next;
			t->next->prev = t->prev;
			if (t->due_tick > tk) { /* a later turn: put it back */
				t->next = head;
				t->prev = head->prev;
				head->prev->next = t;
				head->prev = t;
				continue;
			}
			t->prev = t->next = NULL;
			wh->armed--;
			cr_node_timer(w, peer_of(t));
		}
	}
	wh->now_tick = now;
	cr_wheel_arm(w);
}
