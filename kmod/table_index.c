// SPDX-License-Identifier: GPL-2.0
/*
 * dlock lock table: keyed hashing and the owner index (see table_int.h).
 *
 * Everything here runs under the wait-graph lock, the one lock every
 * contended command of a namespace takes, so nothing here may take time an
 * unprivileged client can stretch: lookups are hash chains whose length a
 * client cannot steer (keyed hash, tables that grow), and an owner's waits
 * are counted rather than scanned.
 */
#include "table_int.h"

#define DL_INDEX_MAX_BITS	26
#define DL_GOLDEN		0x9e3779b97f4a7c15ULL

u64 dl_mix64(u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Bytes read little-endian so every architecture hashes alike. */
static u64 dl_hash_bytes(u64 seed, const u8 *p, u32 len)
{
	u64 h = seed ^ ((u64)len * DL_GOLDEN);
	u64 w;
	u32 i;

	while (len) {
		u32 n = min(len, 8U);

		w = 0;
		for (i = 0; i < n; i++)
			w |= (u64)p[i] << (8 * i);
		h = dl_mix64(h ^ w) + DL_GOLDEN;
		p += n;
		len -= n;
	}
	return dl_mix64(h);
}

u64 dl_hash(const struct dl_hasher *h, const void *p, u32 len)
{
	if (h->ops->hash)
		return h->ops->hash(h->priv, p, len);
	return dl_hash_bytes(h->seed, p, len);
}

u64 dl_okey_hash(const struct dl_hasher *h, const struct dl_okey *k)
{
	u8 b[16];

	if (k->detached)
		return dl_hash(h, k->str, k->len);
	dl_put_le64(b, k->sess_id);
	dl_put_le64(b + 8, k->tag);
	return dl_hash(h, b, sizeof(b));
}

/* ---- bucket arrays ---------------------------------------------------- */

static void *ix_alloc(const struct dl_index *x, enum dl_obj kind, size_t size)
{
	return x->h.ops->alloc(x->h.priv, kind, size);
}

static void ix_free(const struct dl_index *x, enum dl_obj kind, void *p,
		    size_t size)
{
	if (p)
		x->h.ops->free(x->h.priv, kind, p, size);
}

static u32 slot(const struct dl_ihash *t, u32 hash)
{
	return hash & ((1U << t->bits) - 1);
}

static int ihash_init(struct dl_index *x, struct dl_ihash *t, u32 bits)
{
	size_t sz = sizeof(*t->b) << bits;

	t->b = ix_alloc(x, DL_OBJ_INDEX, sz);
	if (!t->b)
		return -ENOMEM;
	memset(t->b, 0, sz);
	t->bits = bits;
	t->nr = 0;
	return 0;
}

static void ihash_free(struct dl_index *x, struct dl_ihash *t)
{
	ix_free(x, DL_OBJ_INDEX, t->b, sizeof(*t->b) << t->bits);
	t->b = NULL;
}

/*
 * The new size for @t, or 0 to keep it: doubles above one entry per bucket,
 * halves below one per eight, so a client adding and removing one wait at
 * a boundary does not rehash every time.
 */
static u32 ihash_want(const struct dl_index *x, const struct dl_ihash *t)
{
	if (t->nr > (1U << t->bits) && t->bits < DL_INDEX_MAX_BITS)
		return t->bits + 1;
	if (t->bits > x->min_bits && t->nr < (1U << t->bits) / 8)
		return t->bits - 1;
	return 0;
}

/* Owners are chained through their first member, nodes through next[c]. */
static void **owner_next(void *e, int c)
{
	(void)c;
	return (void **)&((struct dl_owner *)e)->next;
}

static u32 owner_hash32(const void *e, int c)
{
	(void)c;
	return (u32)((const struct dl_owner *)e)->hash;
}

static void **node_next(void *e, int c)
{
	return (void **)&((struct dl_wnode *)e)->next[c];
}

static u32 node_hash32(const void *e, int c)
{
	return ((const struct dl_wnode *)e)->hash[c];
}

/*
 * Moves every entry into a table of 1 << @bits buckets; the work is paid
 * for by the insertions or removals since the last resize.  If the array
 * cannot be had, the old one stays.
 */
static void ihash_resize(struct dl_index *x, struct dl_ihash *t, u32 bits,
			 void **(*next)(void *, int),
			 u32 (*hash32)(const void *, int), int c)
{
	struct dl_ihash n = { .bits = bits, .nr = t->nr };
	u32 i;

	if (ihash_init(x, &n, bits))
		return;
	n.nr = t->nr;
	for (i = 0; i < (1U << t->bits); i++) {
		void *e = t->b[i], *nx;

		for (; e; e = nx) {
			u32 s = slot(&n, hash32(e, c));

			nx = *next(e, c);
			*next(e, c) = n.b[s];
			n.b[s] = e;
		}
	}
	ihash_free(x, t);
	*t = n;
}

static void ihash_fit(struct dl_index *x, struct dl_ihash *t,
		      void **(*next)(void *, int),
		      u32 (*hash32)(const void *, int), int c)
{
	u32 bits = ihash_want(x, t);

	if (bits)
		ihash_resize(x, t, bits, next, hash32, c);
}

static void ihash_unlink(struct dl_ihash *t, void *e,
			 void **(*next)(void *, int), u32 hash, int c)
{
	void **pp = &t->b[slot(t, hash)];

	while (*pp != e)
		pp = next(*pp, c);
	*pp = *next(e, c);
	t->nr--;
}

/* ---- the index -------------------------------------------------------- */

int dl_index_init(struct dl_index *x, const struct dl_hasher *h, u32 bits)
{
	int c;

	memset(x, 0, sizeof(*x));
	x->h = *h;
	x->min_bits = bits;
	if (ihash_init(x, &x->owners, bits))
		goto fail;
	for (c = 0; c < DL_CH_NR; c++)
		if (ihash_init(x, &x->ch[c], bits))
			goto fail;
	return 0;
fail:
	dl_index_destroy(x);
	return -ENOMEM;
}

static size_t owner_size(u32 len)
{
	return sizeof(struct dl_owner) + len;
}

void dl_index_destroy(struct dl_index *x)
{
	u32 i;
	int c;

	for (i = 0; x->owners.b && i < (1U << x->owners.bits); i++) {
		struct dl_owner *o = x->owners.b[i], *on;

		for (; o; o = on) {
			on = o->next;
			while (!dl_link_empty(&o->waits)) {
				struct dl_wnode *n = dl_container_of(
					o->waits.next, struct dl_wnode, olink);

				dl_link_del(&n->olink);
				ix_free(x, DL_OBJ_WNODE, n, sizeof(*n));
			}
			ix_free(x, DL_OBJ_OWNER, o, owner_size(o->key.len));
		}
	}
	ihash_free(x, &x->owners);
	for (c = 0; c < DL_CH_NR; c++)
		ihash_free(x, &x->ch[c]);
}

struct dl_owner *dl_index_owner(const struct dl_index *x,
				const struct dl_okey *k, u32 *steps)
{
	u64 h = dl_okey_hash(&x->h, k);
	struct dl_owner *o = x->owners.b[slot(&x->owners, (u32)h)];

	for (; o; o = o->next) {
		(*steps)++;
		if (o->hash == h && dl_okey_eq(&o->key, k))
			return o;
	}
	return NULL;
}

static u32 pair_hash(u64 ohash, u32 lkey)
{
	return (u32)dl_mix64(ohash + (u64)lkey * DL_GOLDEN);
}

struct dl_wnode *dl_index_find(const struct dl_index *x,
			       const struct dl_okey *k, const void *lock,
			       u32 lkey, u32 *steps)
{
	const struct dl_ihash *t = &x->ch[DL_CH_PAIR];
	u64 oh = dl_okey_hash(&x->h, k);
	u32 ph = pair_hash(oh, lkey);
	struct dl_wnode *n = t->b[slot(t, ph)];

	for (; n; n = n->next[DL_CH_PAIR]) {
		(*steps)++;
		if (n->lock == lock && n->owner->hash == oh &&
		    dl_okey_eq(&n->owner->key, k))
			return n;
	}
	return NULL;
}

u32 dl_index_cookie_hash(const struct dl_index *x, u64 sess_id, u64 cookie,
			 u32 lkey)
{
	u8 b[20];
	int i;

	dl_put_le64(b, sess_id);
	dl_put_le64(b + 8, cookie);
	for (i = 0; i < 4; i++)
		b[16 + i] = (u8)(lkey >> (8 * i));
	return (u32)dl_hash(&x->h, b, sizeof(b));
}

struct dl_wnode *dl_index_cookie_next(const struct dl_index *x, u32 ch,
				      const void *lock,
				      const struct dl_wnode *prev, u32 *steps)
{
	const struct dl_ihash *t = &x->ch[DL_CH_COOKIE];
	struct dl_wnode *n = prev ? prev->next[DL_CH_COOKIE] : t->b[slot(t, ch)];

	for (; n; n = n->next[DL_CH_COOKIE]) {
		(*steps)++;
		if (n->hash[DL_CH_COOKIE] == ch && n->lock == lock)
			return n;
	}
	return NULL;
}

static struct dl_owner *owner_new(struct dl_index *x, const struct dl_okey *k,
				  u64 h)
{
	u32 len = k->detached ? k->len : 0;
	struct dl_owner *o = ix_alloc(x, DL_OBJ_OWNER, owner_size(len));

	if (!o)
		return NULL;
	memset(o, 0, sizeof(*o));
	dl_link_init(&o->waits);
	o->hash = h;
	o->key = *k;
	o->key.len = len;
	if (len)
		memcpy(o->buf, k->str, len);
	o->key.str = len ? o->buf : NULL;
	return o;
}

struct dl_wnode *dl_index_add(struct dl_index *x, const struct dl_okey *k,
			      const void *lock, u32 lkey, u32 cookie_hash,
			      void *entry)
{
	u32 ignored = 0;
	struct dl_owner *o = dl_index_owner(x, k, &ignored);
	struct dl_wnode *n;
	u32 s;
	int c;

	if (!o) {
		o = owner_new(x, k, dl_okey_hash(&x->h, k));
		if (!o)
			return NULL;
	}
	n = ix_alloc(x, DL_OBJ_WNODE, sizeof(*n));
	if (!n) {
		if (!o->nr_waits)
			ix_free(x, DL_OBJ_OWNER, o, owner_size(o->key.len));
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	if (!o->nr_waits++) {
		s = slot(&x->owners, (u32)o->hash);
		o->next = x->owners.b[s];
		x->owners.b[s] = o;
		x->owners.nr++;
		ihash_fit(x, &x->owners, owner_next, owner_hash32, 0);
	}
	dl_link_add_tail(&n->olink, &o->waits);
	n->owner = o;
	n->lock = lock;
	n->entry = entry;
	n->hash[DL_CH_PAIR] = pair_hash(o->hash, lkey);
	n->hash[DL_CH_COOKIE] = cookie_hash;
	for (c = 0; c < DL_CH_NR; c++) {
		struct dl_ihash *t = &x->ch[c];

		s = slot(t, n->hash[c]);
		n->next[c] = t->b[s];
		t->b[s] = n;
		t->nr++;
		ihash_fit(x, t, node_next, node_hash32, c);
	}
	return n;
}

void dl_index_del(struct dl_index *x, struct dl_wnode *n)
{
	struct dl_owner *o = n->owner;
	int c;

	for (c = 0; c < DL_CH_NR; c++) {
		ihash_unlink(&x->ch[c], n, node_next, n->hash[c], c);
		ihash_fit(x, &x->ch[c], node_next, node_hash32, c);
	}
	dl_link_del(&n->olink);
	ix_free(x, DL_OBJ_WNODE, n, sizeof(*n));
	if (--o->nr_waits)
		return;
	ihash_unlink(&x->owners, o, owner_next, (u32)o->hash, 0);
	ix_free(x, DL_OBJ_OWNER, o, owner_size(o->key.len));
	ihash_fit(x, &x->owners, owner_next, owner_hash32, 0);
}
