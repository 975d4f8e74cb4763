/* Per-ring mailboxes: a lock-free multi-producer single-consumer queue of
 * mail (struct cr_mail) plus an IORING_OP_MSG_RING doorbell, so a piece of
 * mail costs the receiver no extra syscall and nobody polls. Any thread may post; only the
 * ring's owner pops. A thread that owns no ring (the application's) rings the
 * doorbell through the engine's small shared "bell" ring under a mutex; the
 * `rung` flag coalesces doorbells so that path stays rare. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

void cr__mailbox_init(struct cr_mailbox *mb, int ring_fd)
{
	atomic_store(&mb->stub.next, NULL);
	atomic_store(&mb->tail, &mb->stub);
	mb->head = &mb->stub;
	atomic_store(&mb->rung, 0);
	atomic_store(&mb->closed, 0);
	mb->ring_fd = ring_fd;
	mb->bell_id = CR_BELL_NONE;
}

struct cr_mail *cr__mail_new(enum cr_mail_kind kind, size_t nids)
{
	struct cr_mail *c = calloc(1, sizeof *c + nids * sizeof(uint64_t));
	if (!c)
		return NULL;
	c->kind = kind;
	c->manual = UINT32_MAX;
	c->nids = nids;
	c->ids = (uint64_t *)(c + 1);
	return c;
}

void cr__mail_free(struct cr_mail *c)
{
	free(c);
}

/* Vyukov's push: one exchange on the tail, then link the old tail to us.
 * Between the two steps the consumer sees a gap and stops; this producer
 * rings the doorbell after linking, so the consumer comes back. */
static void push(struct cr_mailbox *mb, struct cr_mail *c)
{
	atomic_store_explicit(&c->next, NULL, memory_order_relaxed);
	struct cr_mail *prev = atomic_exchange_explicit(&mb->tail, c, memory_order_acq_rel);
	atomic_store_explicit(&prev->next, c, memory_order_release);
}

static void ring_bell(struct cr_engine *e, struct cr_mailbox *mb)
{
	struct io_uring *ring = NULL;
	if (cr__cur_worker && cr__cur_worker->e == e)
		ring = &cr__cur_worker->ring;
	else if (cr__cur_coord && cr__cur_coord == &e->co)
		ring = &e->co.ring;
	if (ring) {
		/* Submitted with this thread's next batch; no CQE for us. */
		struct io_uring_sqe *sqe = cr__sqe(ring);
		io_uring_prep_msg_ring(sqe, mb->ring_fd, 0, cr__ud(OP_DOORBELL, 0, 0), 0);
		/* liburing's prep leaves user_data as the slot's last use had it:
		 * a failed bell would come back as some peer's completion */
		io_uring_sqe_set_data64(sqe, cr__ud(OP_BELL, mb->bell_id, 0));
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		if (cr__cur_coord)
			io_uring_submit(ring); /* the coordinator may sleep next */
		return;
	}
	pthread_mutex_lock(&e->bell_lock);
	if (!e->bell_ok || atomic_load(&mb->closed)) {
		/* stopped: the bell ring (or the target ring) is gone; mail
		 * left behind is drained by the stop or by its waiter */
		pthread_mutex_unlock(&e->bell_lock);
		return;
	}
	/* The bell ring is submitted at once, so its SQ is empty unless the
	 * last submit was refused: then try once more, and failing that let
	 * the doorbell go and clear `rung`, so the next post rings again (the
	 * mail stays queued; a waiting caller's kick also rings). */
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->bell);
	if (!sqe && io_uring_submit(&e->bell) >= 0)
		sqe = io_uring_get_sqe(&e->bell);
	if (!sqe) {
		atomic_store(&mb->rung, 0);
		pthread_mutex_unlock(&e->bell_lock);
		cr__log(e, CR_LOG_WARN, CR_LOG_GENERAL, "doorbell: the kernel refused the bell ring's submit");
		return;
	}
	io_uring_prep_msg_ring(sqe, mb->ring_fd, 0, cr__ud(OP_DOORBELL, 0, 0), 0);
	io_uring_sqe_set_data64(sqe, cr__ud(OP_BELL, mb->bell_id, 0));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_submit(&e->bell);
	/* Failures (a target ring already gone at stop) post a CQE; they are
	 * handled after the unlock, since handling one logs (and a log
	 * callback may post mail). */
	struct io_uring_cqe *cqe;
	uint64_t failed[4];
	int failed_res[4];
	unsigned nfailed = 0;
	while (io_uring_peek_cqe(&e->bell, &cqe) == 0) {
		if (cqe->res < 0 && nfailed < 4) {
			failed[nfailed] = cqe->user_data;
			failed_res[nfailed++] = cqe->res;
		}
		io_uring_cqe_seen(&e->bell, cqe);
	}
	pthread_mutex_unlock(&e->bell_lock);
	for (unsigned i = 0; i < nfailed; i++)
		cr__bell_failed(e, failed[i], failed_res[i]);
}

static struct cr_mailbox *bell_target(struct cr_engine *e, uint32_t id)
{
	if (id == CR_BELL_COORD)
		return &e->co.mb;
	if (e->w && id < e->nworkers)
		return &e->w[id].mb;
	return NULL;
}

/* A doorbell the kernel refused (its CQE: OP_BELL): the mail behind it is
 * still queued, but `rung` says a bell is on its way, so no later post
 * would ring. Let the next post ring. Any thread. */
void cr__bell_failed(struct cr_engine *e, uint64_t user_data, int res)
{
	struct cr_mailbox *mb = bell_target(e, cr__ud_idx(user_data));
	if (!mb || atomic_load(&mb->closed))
		return;
	atomic_store(&mb->rung, 0);
	cr__log(e, CR_LOG_DEBUG, CR_LOG_GENERAL, "doorbell to ring %u failed: %s", cr__ud_idx(user_data),
		strerror(-res));
}

void cr__mailbox_post(struct cr_engine *e, struct cr_mailbox *mb, struct cr_mail *c)
{
	push(mb, c);
	/* acq_rel, against the consumer's exchange in cr__mailbox_rearm (see
	 * there): either we read its 0 and ring, or it reads our 1 and its
	 * drain sees our push. */
	if (atomic_exchange_explicit(&mb->rung, 1, memory_order_acq_rel) == 0) {
		ring_bell(e, mb);
		if (cr__cur_worker)
			CR_STAT_ADD(cr__cur_worker, doorbells, 1);
	}
}

/* Rings the doorbell even if one is supposedly on its way: a waiting
 * caller's safety net (an extra doorbell only costs an empty drain). */
void cr__mailbox_kick(struct cr_engine *e, struct cr_mailbox *mb)
{
	atomic_store(&mb->rung, 1);
	ring_bell(e, mb);
}

/* Called by the consumer on each doorbell, before draining.
 *
 * An exchange, not a store. The producer pushes (release) and then
 * exchanges `rung` to 1; it rings only when it read 0. If its exchange
 * comes before ours in `rung`'s modification order, ours reads the 1 it
 * wrote (or a later producer's, through the release sequence that RMWs
 * continue), so ours synchronizes with it and the drain that follows sees
 * its push. If ours comes first, its exchange reads our 0 and it rings
 * again, so a later drain sees it. A plain store would read nothing: the
 * drain's acquire loads could then still miss a push whose producer saw
 * `rung` == 1 and stayed quiet (C11 lets a load pass an earlier seq_cst
 * store to another location; x86 happens to forbid it, weaker CPUs not). */
void cr__mailbox_rearm(struct cr_mailbox *mb)
{
	atomic_exchange_explicit(&mb->rung, 0, memory_order_acq_rel);
}

/* Pops one piece of mail or returns NULL (empty, or a producer is mid-push and
 * will ring again). Consumer only. */
struct cr_mail *cr__mailbox_pop(struct cr_mailbox *mb)
{
	struct cr_mail *head = mb->head;
	struct cr_mail *next = atomic_load_explicit(&head->next, memory_order_acquire);
	if (head == &mb->stub) {
		if (!next)
			return NULL;
		mb->head = next;
		head = next;
		next = atomic_load_explicit(&head->next, memory_order_acquire);
	}
	if (next) {
		mb->head = next;
		return head;
	}
	struct cr_mail *tail = atomic_load_explicit(&mb->tail, memory_order_acquire);
	if (head != tail)
		return NULL; /* a producer swapped the tail but has not linked yet */
	push(mb, &mb->stub);
	next = atomic_load_explicit(&head->next, memory_order_acquire);
	if (next) {
		mb->head = next;
		return head;
	}
	return NULL;
}

