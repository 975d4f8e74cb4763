/* Small helpers shared by the io_uring load tools in bench/ (ceiling and
 * connring-load): a monotonic clock, a log-linear latency histogram, ring
 * setup with the best flags the kernel accepts, a provided-buffer ring, the
 * loopback check, and what a run measures from /proc (a process's CPU time,
 * the kernel's slab and socket memory). Header-only; each helper works on
 * caller memory, so any thread may use it on its own objects. */
#ifndef CR_BENCH_LOAD_UTIL_H
#define CR_BENCH_LOAD_UTIL_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline uint64_t bu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Log-linear histogram: exact below 64, then 32 sub-buckets per power of
 * two (about 3% resolution), up to 2^63. Values in any unit. */
#define BU_HIST_SUB 32
#define BU_HIST_BUCKETS (64 + 58 * BU_HIST_SUB)

struct bu_hist {
	uint64_t count;
	uint64_t b[BU_HIST_BUCKETS];
};

static inline unsigned bu_hist_index(uint64_t v)
{
	if (v < 64)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 6 */
	unsigned sub = (unsigned)(v >> (e - 5)) & (BU_HIST_SUB - 1);
	return 64 + (e - 6) * BU_HIST_SUB + sub;
}

/* The smallest value that lands in bucket i. */
static inline uint64_t bu_hist_value(unsigned i)
{
	if (i < 64)
		return i;
	unsigned e = (i - 64) / BU_HIST_SUB + 6, sub = (i - 64) % BU_HIST_SUB;
	return ((uint64_t)(BU_HIST_SUB + sub)) << (e - 5);
}

static inline void bu_hist_add(struct bu_hist *h, uint64_t v)
{
	h->b[bu_hist_index(v)]++;
	h->count++;
}

static inline void bu_hist_merge(struct bu_hist *into, const struct bu_hist *from)
{
	for (unsigned i = 0; i < BU_HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
}

/* The value at quantile q (0..1), or 0 for an empty histogram. */
static inline uint64_t bu_hist_quantile(const struct bu_hist *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < BU_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > want)
			return bu_hist_value(i);
	}
	return bu_hist_value(BU_HIST_BUCKETS - 1);
}

/* A ring with single issuer + deferred task running where the kernel has
 * them (6.1+), else plain: a load tool must run anywhere. CQ sized 4x. */
static inline int bu_ring_init(struct io_uring *ring, unsigned entries)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = entries * 4;
	int r = io_uring_queue_init_params(entries, ring, &p);
	if (r == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = entries * 4;
		r = io_uring_queue_init_params(entries, ring, &p);
	}
	return r;
}

/* A provided-buffer ring that grows on demand: the ring has room for
 * entries (power of two) buffers of size bytes, starts with initial of them
 * and gets more (doubling, up to entries) when a recv finds it empty, so a
 * ring holding many idle connections touches little memory. */
#define BU_BUFRING_CHUNKS 16

struct bu_bufring {
	struct io_uring_buf_ring *br;
	uint8_t **addr;                    /* entries pointers: buffer of each id */
	uint8_t *chunk[BU_BUFRING_CHUNKS]; /* the blocks they live in */
	unsigned nchunks, entries, count, size, mask;
	uint16_t bgid;
};

/* Adds up to n buffers (ids count..count+n-1) at ring offset *batched;
 * the caller advances the ring by *batched. Returns how many were added. */
static inline unsigned bu_bufring_add(struct bu_bufring *b, unsigned n, int *batched)
{
	if (n > b->entries - b->count)
		n = b->entries - b->count;
	if (!n || b->nchunks == BU_BUFRING_CHUNKS)
		return 0;
	uint8_t *mem = malloc((size_t)n * b->size);
	if (!mem)
		return 0;
	b->chunk[b->nchunks++] = mem;
	for (unsigned i = 0; i < n; i++) {
		unsigned bid = b->count + i;
		b->addr[bid] = mem + (size_t)i * b->size;
		io_uring_buf_ring_add(b->br, b->addr[bid], b->size, (uint16_t)bid, (int)b->mask, *batched);
		(*batched)++;
	}
	b->count += n;
	return n;
}

/* Doubles the buffers (after a recv met an empty ring); 0 when at entries. */
static inline unsigned bu_bufring_grow(struct bu_bufring *b, int *batched)
{
	return bu_bufring_add(b, b->count ? b->count : 1, batched);
}

static inline int bu_bufring_init(struct io_uring *ring, struct bu_bufring *b, uint16_t bgid,
				  unsigned entries, unsigned initial, unsigned size)
{
	memset(b, 0, sizeof(*b));
	if (posix_memalign((void **)&b->br, 4096, entries * sizeof(struct io_uring_buf)))
		return -ENOMEM;
	b->addr = calloc(entries, sizeof(*b->addr));
	if (!b->addr)
		return -ENOMEM;
	b->entries = entries;
	b->size = size;
	b->mask = (unsigned)io_uring_buf_ring_mask(entries);
	b->bgid = bgid;
	io_uring_buf_ring_init(b->br);
	struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)b->br, .ring_entries = entries, .bgid = bgid};
	int r = io_uring_register_buf_ring(ring, &reg, 0);
	if (r < 0)
		return r;
	int added = 0;
	if (bu_bufring_add(b, initial < entries ? initial : entries, &added) == 0)
		return -ENOMEM;
	io_uring_buf_ring_advance(b->br, added);
	return 0;
}

static inline uint8_t *bu_buf(const struct bu_bufring *b, unsigned bid)
{
	return b->addr[bid];
}

/* Hands buffer bid back to the kernel (batched: advance once per batch). */
static inline void bu_buf_recycle(struct bu_bufring *b, unsigned bid, int *batched)
{
	io_uring_buf_ring_add(b->br, b->addr[bid], b->size, (uint16_t)bid, (int)b->mask, *batched);
	(*batched)++;
}

static inline void bu_bufring_free(struct bu_bufring *b)
{
	free(b->br);
	free(b->addr);
	for (unsigned i = 0; i < b->nchunks; i++)
		free(b->chunk[i]);
	memset(b, 0, sizeof(*b));
}

/* Parses "HOST:PORT" ("[::1]:PORT" for IPv6) into ss; only loopback is
 * accepted: these tools never load anything but this machine. */
static inline int bu_parse_loopback(const char *hp, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(hp, ':');
	if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof(host))
		return -EINVAL;
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		if ((ntohl(a4->sin_addr.s_addr) >> 24) != 127)
			return -EPERM;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	size_t hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		if (!IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr))
			return -EPERM;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

/* Raises the soft descriptor limit to the hard one; returns the new limit. */
static inline unsigned bu_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur > 1u << 30 ? 1u << 30 : (unsigned)rl.rlim_cur;
}

/* Nanoseconds the process has spent on a CPU, summed over its live threads
 * (first field of /proc/PID/task/TID/schedstat, ns resolution where
 * /proc/PID/stat has 10 ms ticks), or -1 when there is no such process. */
static inline int64_t bu_cpu_ns(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int64_t sum = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p2[96];
		snprintf(p2, sizeof(p2), "/proc/%d/task/%.16s/schedstat", pid, de->d_name);
		FILE *f = fopen(p2, "r");
		unsigned long long ns = 0;
		if (f) {
			if (fscanf(f, "%llu", &ns) == 1)
				sum += (int64_t)ns;
			fclose(f);
		}
	}
	closedir(d);
	return sum;
}

/* The kernel memory that grows with TCP connections, in KiB: Slab from
 * /proc/meminfo (socket, inode, file and io_uring objects) plus the pages
 * socket buffers hold ("TCP: ... mem N" in /proc/net/sockstat). Machine
 * wide: other processes' allocations show up too, so a run compares it
 * before and while it holds its peers. -1 when unreadable. */
static inline long bu_kernel_kib(void)
{
	char line[256];
	long slab = -1, pages = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &slab) == 1)
			break;
	fclose(f);
	if ((f = fopen("/proc/net/sockstat", "r"))) {
		while (fgets(line, sizeof(line), f)) {
			const char *m = strstr(line, " mem ");
			if (strncmp(line, "TCP:", 4) == 0 && m)
				pages = strtol(m + 5, NULL, 10);
		}
		fclose(f);
	}
	return slab < 0 ? -1 : slab + pages * 4;
}

#endif
