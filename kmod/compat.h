/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one header that dlock's policy files (lock table, replication core,
 * peer wire codec) include.  It maps the few kernel basics they use onto the
 * C library when the same files are compiled into host tests, the cluster
 * simulator and the fuzzers, so that one copy of the policy code runs
 * everywhere.  Policy code must not include any other kernel header: anything
 * that needs the kernel (timers, allocation, sockets, locking) is asked of the
 * caller through an ops structure.
 */
#ifndef DLOCK_COMPAT_H
#define DLOCK_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/stddef.h>
#include <linux/minmax.h>
#include <linux/compiler.h>
#include <linux/bug.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#ifndef min
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#endif
#ifndef max_t
#define max_t(type, a, b) max((type)(a), (type)(b))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif
#endif /* __KERNEL__ */

/*
 * Counters shared between shards (per-table and per-session caps), updated
 * under different shard locks at once, hence atomic.  Used by the lock table.
 */
#ifdef __KERNEL__
#include <linux/atomic.h>
typedef atomic_long_t dl_atomic_t;
#define dl_atomic_add_return(v, a)	atomic_long_add_return((v), (a))
#define dl_atomic_read(a)		atomic_long_read(a)
#define dl_atomic_set(a, v)		atomic_long_set((a), (v))
/* Fully ordered; returns the value found. */
#define dl_atomic_cmpxchg(a, o, n)	atomic_long_cmpxchg((a), (o), (n))
#else
typedef struct { long counter; } dl_atomic_t;
#define dl_atomic_add_return(v, a) \
	__atomic_add_fetch(&(a)->counter, (v), __ATOMIC_RELAXED)
#define dl_atomic_read(a)	__atomic_load_n(&(a)->counter, __ATOMIC_RELAXED)
#define dl_atomic_set(a, v) \
	__atomic_store_n(&(a)->counter, (v), __ATOMIC_RELAXED)
static inline long dl_atomic_cmpxchg(dl_atomic_t *a, long old, long new_)
{
	__atomic_compare_exchange_n(&a->counter, &old, new_, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return old;
}
/* Relaxed atomics: what the kernel's READ_ONCE means, and TSan knows it. */
#ifndef READ_ONCE
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif
#endif /* __KERNEL__ */

/*
 * DL_ASSERT(): a precondition or invariant of the policy code that a caller
 * or a later change could break.  The kernel warns once and carries on (the
 * test harness fails any run whose log holds a warning); the host calls
 * dl_assert_failed(), which aborts unless a test program defines its own to
 * count the failure (and DL_ASSERT_OWN_HANDLER before including this).
 */
#ifdef __KERNEL__
#define DL_ASSERT(cond)	((void)WARN_ON_ONCE(!(cond)))
#else
#include <stdio.h>
#include <stdlib.h>
void dl_assert_failed(const char *expr, const char *file, int line);
#ifndef DL_ASSERT_OWN_HANDLER
__attribute__((weak)) void dl_assert_failed(const char *expr, const char *file,
					    int line)
{
	fprintf(stderr, "%s:%d: DL_ASSERT(%s) failed\n", file, line, expr);
	abort();
}
#endif
#define DL_ASSERT(cond) do {						\
	if (unlikely(!(cond)))						\
		dl_assert_failed(#cond, __FILE__, __LINE__);		\
} while (0)
#endif

/* Little-endian u64 in a byte buffer, the same on every architecture. */
static inline void dl_put_le64(u8 *p, u64 v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (u8)(v >> (8 * i));
}

static inline u64 dl_get_le64(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#endif /* DLOCK_COMPAT_H */
