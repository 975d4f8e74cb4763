/* Allocation failure injection for tests (issue 10): a test binary that
 * includes this defines malloc/calloc/realloc/free over glibc's, which
 * interposes them process-wide (libcrypto's included). Between
 * inject_arm() and inject_disarm() it counts allocation calls and makes
 * the Nth fail (or all); inject_live counts blocks alive at all times, so
 * a leak after a failure shows. Under AddressSanitizer (which owns malloc)
 * INJECTING is 0 and nothing is defined: the test must skip. Include it
 * in one file per binary only. posix_memalign and aligned_alloc are not
 * wrapped: an allocation through them is neither counted nor failed. */
#ifndef CR_TESTS_ALLOC_INJECT_H
#define CR_TESTS_ALLOC_INJECT_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CR_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(CR_ASAN)
#define INJECTING 0
#else
#define INJECTING 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static bool inject_armed; /* count and inject only between arm and disarm */
static long inject_calls; /* allocations since inject_arm() */
static long inject_at;    /* the call that fails (1-based; 0: none) */
static bool inject_all;   /* every allocation fails */
static long inject_live;  /* blocks alive (armed or not: a leak shows here) */

static bool inject_fails(void)
{
	if (!inject_armed)
		return false;
	inject_calls++;
	return inject_all || inject_calls == inject_at;
}

void *malloc(size_t n)
{
	if (inject_fails())
		return NULL;
	void *p = __libc_malloc(n);
	if (p)
		inject_live++;
	return p;
}

void *calloc(size_t n, size_t m)
{
	if (inject_fails())
		return NULL;
	void *p = __libc_calloc(n, m);
	if (p)
		inject_live++;
	return p;
}

void *realloc(void *p, size_t n)
{
	if (inject_fails())
		return NULL;
	void *q = __libc_realloc(p, n);
	if (!p && q)
		inject_live++;
	else if (p && !n && !q)
		inject_live--;
	return q;
}

void free(void *p)
{
	if (p)
		inject_live--;
	__libc_free(p);
}

static inline void inject_arm(long at, bool all)
{
	inject_calls = 0;
	inject_at = at;
	inject_all = all;
	inject_armed = true;
}

static inline void inject_disarm(void)
{
	inject_armed = false;
}
#endif

#endif
