/* The mailbox (engine/mailbox.c) under load: several producer threads post
 * to one consumer ring at once, through the shared bell ring as an
 * application thread does. Every piece of mail arrives exactly once, in
 * each producer's order, and the consumer never waits on mail that is
 * already queued (a lost doorbell shows as a wait that times out with
 * mail pending). Bounded: 4 x 20,000 mails, 60 s at most. */
#include <pthread.h>

#include "check.h"
#include "engine/internal.h"

#define PRODUCERS 4
#define PER_PRODUCER 20000

static struct cr_engine eng;
static struct cr_mailbox mb;

static void *producer(void *arg)
{
	uint64_t p = (uint64_t)(uintptr_t)arg;
	for (uint64_t seq = 0; seq < PER_PRODUCER; seq++) {
		struct cr_mail *c = cr__mail_new(MAIL_SEND, 0);
		if (!c)
			abort(); /* out of memory in a test: nothing to check */
		c->peer = p << 32 | seq;
		cr__mailbox_post(&eng, &mb, c);
	}
	return NULL;
}

static void test_engine_mailbox_mpsc(void)
{
	pthread_mutex_init(&eng.bell_lock, NULL);
	CHECK_EQ(cr__ring_setup(&eng, &eng.bell, 64, false), 0);
	eng.bell_ok = true; /* as cr_engine_start: doorbells may ring */
	struct io_uring ring;
	CHECK_EQ(io_uring_queue_init(256, &ring, 0), 0);
	cr__mailbox_init(&mb, ring.ring_fd);
	pthread_t t[PRODUCERS];
	for (uintptr_t i = 0; i < PRODUCERS; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, producer, (void *)i), 0);
	uint64_t next[PRODUCERS] = { 0 }, got = 0, doorbells = 0, lost = 0, disorder = 0;
	time_t deadline = time(NULL) + 60;
	while (got < (uint64_t)PRODUCERS * PER_PRODUCER && time(NULL) < deadline) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 2 };
		int r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		if (r == 0) {
			doorbells += cr__ud_op(cqe->user_data) == OP_DOORBELL;
			io_uring_cqe_seen(&ring, cqe);
		}
		/* as a worker does on each doorbell: re-arm, then drain */
		cr__mailbox_rearm(&mb);
		struct cr_mail *c;
		bool any = false;
		while ((c = cr__mailbox_pop(&mb))) {
			unsigned p = (unsigned)(c->peer >> 32);
			uint32_t seq = (uint32_t)c->peer;
			if (p >= PRODUCERS || seq != next[p])
				disorder++;
			else
				next[p]++;
			got++;
			any = true;
			cr__mail_free(c);
		}
		if (r == -ETIME && any)
			lost++; /* mail was waiting and no doorbell said so */
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	printf("mailbox: %llu mails, %llu doorbells\n", (unsigned long long)got,
	       (unsigned long long)doorbells);
	CHECK_EQ(got, (uint64_t)PRODUCERS * PER_PRODUCER);
	CHECK_EQ(disorder, 0);
	CHECK_EQ(lost, 0);
	for (int i = 0; i < PRODUCERS; i++)
		CHECK_EQ(next[i], PER_PRODUCER);
	/* doorbells coalesce: far fewer than mails, at least one */
	CHECK(doorbells >= 1 && doorbells < got);
	CHECK(cr__mailbox_pop(&mb) == NULL);
	io_uring_queue_exit(&ring);
	io_uring_queue_exit(&eng.bell);
	pthread_mutex_destroy(&eng.bell_lock);
	eng.bell_ok = false;
}

/* A doorbell the kernel refuses (here: the target is a pipe, not a ring;
 * in the engine, a ring whose thread is gone or whose CQ overflowed) must
 * not leave `rung` set: every later post would then stay silent and the
 * mail would wait forever. The failure comes back tagged OP_BELL (not
 * with the SQE slot's stale user_data) and re-opens the bell. */
static void test_engine_mailbox_failed_bell(void)
{
	pthread_mutex_init(&eng.bell_lock, NULL);
	CHECK_EQ(cr__ring_setup(&eng, &eng.bell, 64, false), 0);
	eng.bell_ok = true;
	int fds[2];
	CHECK_EQ(pipe(fds), 0);
	cr__mailbox_init(&eng.co.mb, fds[0]);
	eng.co.mb.bell_id = CR_BELL_COORD;
	for (int i = 0; i < 3; i++) {
		struct cr_mail *c = cr__mail_new(MAIL_SEND, 0);
		CHECK(c != NULL);
		if (!c)
			break;
		c->peer = (uint64_t)i;
		cr__mailbox_post(&eng, &eng.co.mb, c);
		/* each post found the bell open again and rang (and failed) */
		CHECK_EQ(atomic_load(&eng.co.mb.rung), 0);
	}
	unsigned n = 0;
	struct cr_mail *c;
	while ((c = cr__mailbox_pop(&eng.co.mb))) {
		CHECK_EQ(c->peer, (uint64_t)n);
		n++;
		cr__mail_free(c);
	}
	CHECK_EQ(n, 3u);
	close(fds[0]);
	close(fds[1]);
	io_uring_queue_exit(&eng.bell);
	pthread_mutex_destroy(&eng.bell_lock);
	eng.bell_ok = false;
}

int main(void)
{
	RUN(test_engine_mailbox_mpsc);
	RUN(test_engine_mailbox_failed_bell);
	return check_done();
}
