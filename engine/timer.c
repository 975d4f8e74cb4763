/* A hashed timer wheel per worker: one timer per peer (its next deadline of
 * any kind), CR_WHEEL_SLOTS slots of CR_TICK_MS each, and one io_uring
 * timeout armed for the next non-empty slot (moved earlier with a timeout
 * update when a sooner timer arrives), so a worker only wakes when some
 * timer may be due and sleeps when the wheel is empty. Setting, cancelling and firing are O(1) per timer; a timer
 * further away than one turn stays in its slot until its turn comes. Owner
 * worker thread only. */
#include <string.h>

#include "engine/internal.h"

void cr__wheel_init(struct cr_wheel *wh)
{
	for (unsigned i = 0; i < CR_WHEEL_SLOTS; i++)
		wh->slots[i].prev = wh->slots[i].next = &wh->slots[i];
	wh->start_us = cr__now_us();
	wh->now_tick = 0;
	wh->armed = 0;
	wh->tick_pending = false;
}

static void wheel_arm(struct cr_worker *w);

static uint64_t tick_of(const struct cr_wheel *wh, uint64_t us)
{
	return us <= wh->start_us ? 0 : (us - wh->start_us) / (CR_TICK_MS * 1000u);
}

void cr__timer_cancel(struct cr_worker *w, struct cr_timer *t)
{
	if (!t->next)
		return;
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->prev = t->next = NULL;
	w->wheel.armed--;
}

void cr__timer_set(struct cr_worker *w, struct cr_timer *t, uint64_t due_us)
{
	struct cr_wheel *wh = &w->wheel;
	cr__timer_cancel(w, t);
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
	/* The armed timeout already wakes the worker at or before this tick
	 * (and that wake walks every slot up to now): skip the slot scan,
	 * which otherwise runs for every peer's every deadline change. */
	if (!wh->tick_pending || due < wh->armed_tick)
		wheel_arm(w);
}

/* The first tick after now_tick whose slot holds a timer (at most one
 * turn ahead; a timer further away sits in a slot of this turn too). */
static uint64_t next_tick(const struct cr_wheel *wh)
{
	for (uint64_t k = 1; k <= CR_WHEEL_SLOTS; k++) {
		const struct cr_timer *head = &wh->slots[(wh->now_tick + k) % CR_WHEEL_SLOTS];
		if (head->next != head)
			return wh->now_tick + k;
	}
	return wh->now_tick + CR_WHEEL_SLOTS;
}

static void set_ts(const struct cr_wheel *wh, struct __kernel_timespec *ts, uint64_t tick)
{
	uint64_t at = wh->start_us + tick * CR_TICK_MS * 1000u, now = cr__now_us();
	uint64_t d = at > now ? at - now : 1000;
	ts->tv_sec = (long long)(d / 1000000u);
	ts->tv_nsec = (long long)(d % 1000000u) * 1000;
}

/* Arms the one timeout for tick, or moves the armed one earlier. */
static void arm_at(struct cr_worker *w, uint64_t tick)
{
	struct cr_wheel *wh = &w->wheel;
	if (wh->tick_pending) {
		if (tick >= wh->armed_tick)
			return;
		set_ts(wh, &wh->ts_upd, tick);
		struct io_uring_sqe *sqe = cr__sqe(&w->ring);
		io_uring_prep_timeout_update(sqe, &wh->ts_upd, cr__ud(OP_TICK, 0, 0), 0);
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		io_uring_sqe_set_data64(sqe, cr__ud(OP_CANCEL, 0, 0));
		wh->armed_tick = tick;
		return;
	}
	set_ts(wh, &wh->ts, tick);
	struct io_uring_sqe *sqe = cr__sqe(&w->ring);
	io_uring_prep_timeout(sqe, &wh->ts, 0, 0);
	io_uring_sqe_set_data64(sqe, cr__ud(OP_TICK, 0, 0));
	wh->tick_pending = true;
	wh->armed_tick = tick;
}

/* Arms the timeout for the next slot with a timer, if any. */
static void wheel_arm(struct cr_worker *w)
{
	if (w->wheel.armed && !w->done)
		arm_at(w, next_tick(&w->wheel));
}

/* Makes sure the worker wakes within about one tick (the stop sequence). */
void cr__wheel_wake_soon(struct cr_worker *w)
{
	if (!w->done)
		arm_at(w, w->wheel.now_tick + 2);
}

/* The peer that embeds a timer (each peer has exactly one). */
static struct cr_peer *peer_of(struct cr_timer *t)
{
	return (struct cr_peer *)((char *)t - offsetof(struct cr_peer, tm));
}

/* Runs every slot between the last processed tick and now. A long stall
 * (more than a turn) walks each slot once. */
void cr__wheel_tick(struct cr_worker *w)
{
	struct cr_wheel *wh = &w->wheel;
	wh->tick_pending = false;
	uint64_t now = tick_of(wh, cr__now_us());
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
			cr__node_timer(w, peer_of(t));
		}
	}
	wh->now_tick = now;
	wheel_arm(w);
}
