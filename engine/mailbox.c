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
	mb->ring_fd = ring_fd;
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
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
		if (cr__cur_coord)
			io_uring_submit(ring); /* the coordinator may sleep next */
		return;
	}
	pthread_mutex_lock(&e->bell_lock);
	struct io_uring_sqe *sqe = cr__sqe(&e->bell);
	io_uring_prep_msg_ring(sqe, mb->ring_fd, 0, cr__ud(OP_DOORBELL, 0, 0), 0);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_submit(&e->bell);
	/* Failures (a target ring already gone at stop) post a CQE: drop it. */
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&e->bell, &cqe) == 0)
		io_uring_cqe_seen(&e->bell, cqe);
	pthread_mutex_unlock(&e->bell_lock);
}

void cr__mailbox_post(struct cr_engine *e, struct cr_mailbox *mb, struct cr_mail *c)
{
	push(mb, c);
	/* seq_cst: this exchange is ordered after the push above and against
	 * the consumer's store of 0 in cr__mailbox_rearm, which it makes before
	 * draining. Either we see 0 and ring, or the consumer's drain comes
	 * after our push and sees it. */
	if (atomic_exchange(&mb->rung, 1) == 0) {
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

/* Called by the consumer on each doorbell, before draining. */
void cr__mailbox_rearm(struct cr_mailbox *mb)
{
	atomic_store(&mb->rung, 0);
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
