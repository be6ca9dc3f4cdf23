/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internals shared by the lock table's own files (table.c, table_index.c).
 * Not for the glue: it sees only table.h.  Policy code: compat.h only.
 */
#ifndef DLOCK_TABLE_INT_H
#define DLOCK_TABLE_INT_H

#include "table.h"

#define dl_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/*
 * Fails a command with @err and says why (cx->why), at the point where the
 * cause is known.  @err 0 passes through, so a check's result can be
 * wrapped as it is.
 */
static inline int dl_fail(struct dl_cmd *cx, int err, const char *why)
{
	if (err < 0)
		cx->why = why;
	return err;
}

/* A minimal circular doubly linked list (policy code has no list.h). */
struct dl_link {
	struct dl_link *next, *prev;
};

static inline void dl_link_init(struct dl_link *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool dl_link_empty(const struct dl_link *h)
{
	return h->next == h;
}

static inline void dl_link_add_tail(struct dl_link *n, struct dl_link *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void dl_link_del(struct dl_link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n;
	n->prev = n;
}

/* Owner identity, comparable across locks and shards. */
struct dl_okey {
	const struct dl_session *sess;
	u64 sess_id;		/* hashed instead of the address: replicas agree */
	u64 tag;
	const char *str;
	u32 len;
	bool detached;
};

static inline bool dl_okey_eq(const struct dl_okey *a, const struct dl_okey *b)
{
	if (a->detached != b->detached)
		return false;
	if (a->detached)
		return a->len == b->len && !memcmp(a->str, b->str, a->len);
	return a->sess == b->sess && a->tag == b->tag;
}

/*
 * Keyed hashing: the glue's hash op (kernel: siphash with a random key per
 * table) or, without one, a seeded mix (host tests, simulator).  Every hash
 * an unprivileged client can steer (names, owners, cookies) goes through it,
 * so nobody who does not know the key can aim many keys at one chain.
 */
struct dl_hasher {
	const struct dl_table_ops *ops;
	void *priv;
	u64 seed;
};

u64 dl_mix64(u64 h);
u64 dl_hash(const struct dl_hasher *h, const void *p, u32 len);
u64 dl_okey_hash(const struct dl_hasher *h, const struct dl_okey *k);

/*
 * The owner index (wait-graph lock held): every queued wait has a node,
 * found three ways in O(1) expected time whatever the clients choose:
 *  - by owner: struct dl_owner lists the owner's waits and counts them
 *    (deadlock walk, the ->multi marks);
 *  - by (owner, lock): is this owner already waiting here (-EALREADY);
 *  - by (session, cookie, lock): cancel and wait timeout.
 * All three tables grow with their contents and shrink when they empty; a
 * failed resize keeps the old table (longer chains, same answers).
 */
struct dl_owner {
	struct dl_owner *next;		/* bucket chain */
	struct dl_link waits;		/* struct dl_wnode.olink, FIFO */
	u64 hash;
	u32 nr_waits;
	struct dl_okey key;		/* .str points into .buf */
	char buf[];
};

enum { DL_CH_PAIR, DL_CH_COOKIE, DL_CH_NR };

struct dl_wnode {
	struct dl_link olink;		/* owner's waits */
	struct dl_wnode *next[DL_CH_NR];
	struct dl_owner *owner;
	const void *lock;		/* identity only */
	void *entry;			/* the waiter, for table.c */
	u32 hash[DL_CH_NR];
};

struct dl_ihash {
	void **b;			/* struct dl_owner / struct dl_wnode */
	u32 bits;
	u32 nr;
};

struct dl_index {
	struct dl_hasher h;
	struct dl_ihash owners;
	struct dl_ihash ch[DL_CH_NR];
	u32 min_bits;
};

int dl_index_init(struct dl_index *x, const struct dl_hasher *h, u32 bits);
/* Frees the buckets, every owner and every node (table destroy). */
void dl_index_destroy(struct dl_index *x);
/* The owner @k if it waits anywhere; *steps counts what was looked at. */
struct dl_owner *dl_index_owner(const struct dl_index *x,
				const struct dl_okey *k, u32 *steps);
/* The wait of @k on @lock (whose name hash key is @lkey). */
struct dl_wnode *dl_index_find(const struct dl_index *x,
			       const struct dl_okey *k, const void *lock,
			       u32 lkey, u32 *steps);
/* Hash of a (session, cookie, lock) for dl_index_cookie_next(). */
u32 dl_index_cookie_hash(const struct dl_index *x, u64 sess_id, u64 cookie,
			 u32 lkey);
/* Nodes on @lock whose cookie hash is @ch, after @prev (NULL: first). */
struct dl_wnode *dl_index_cookie_next(const struct dl_index *x, u32 ch,
				      const void *lock,
				      const struct dl_wnode *prev, u32 *steps);
/* Adds a wait of @k on @lock; NULL if out of memory (nothing changed). */
struct dl_wnode *dl_index_add(struct dl_index *x, const struct dl_okey *k,
			      const void *lock, u32 lkey, u32 cookie_hash,
			      void *entry);
void dl_index_del(struct dl_index *x, struct dl_wnode *n);

#endif /* DLOCK_TABLE_INT_H */
