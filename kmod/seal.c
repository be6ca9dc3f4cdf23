// SPDX-License-Identifier: GPL-2.0
/*
 * dlock sealed peer datagrams, the policy half (seal.h): the header, the
 * order of the checks, the replay window, the token bucket.  Everything a
 * sender controls is checked here before any cryptography runs, and the
 * cryptography (the caller's ops) runs only while that sender's token bucket
 * allows, so a flood of forgeries costs at most the bucket's rate.
 */
#include "compat.h"
#include "seal.h"

#ifndef __KERNEL__
/* glibc's, that the compiler may not drop either */
#define memzero_explicit(p, n)	explicit_bzero((p), (n))
#endif

/*
 * Planted bugs, one per build with -DSEAL_PLANT=n, that tests/host/test_seal.c
 * must each catch (tests/host/seal-plants.sh); 0 in every real build.
 */
#ifndef SEAL_PLANT
#define SEAL_PLANT		0
#endif
#define PLANT(n)		(SEAL_PLANT == (n))

#define NSEC_PER_S		1000000000ULL
#define WINDOW_WORDS		(SEAL_WINDOW_BITS / 64)
#define KDF_LABEL		"dlock seal v1"
#define KDF_LABEL_LEN		13
#define KDF_IN			(KDF_LABEL_LEN + 1 + 4 + 2 + 8 + 4)

/* The window ring must be a power of two words for the index mask. */
#if (WINDOW_WORDS & (WINDOW_WORDS - 1)) || WINDOW_WORDS < 2
#error "SEAL_WINDOW_BITS must be a power of two of at least 128"
#endif

static const char *const drop_names[SEAL_DROP__MAX] = {
	[SEAL_OK] = "accepted",
	[SEAL_DROP_LEN] = "bad length",
	[SEAL_DROP_VERSION] = "bad version",
	[SEAL_DROP_CLUSTER] = "wrong cluster",
	[SEAL_DROP_RECEIVER] = "wrong receiver",
	[SEAL_DROP_SENDER] = "unknown sender",
	[SEAL_DROP_KEY] = "unknown key",
	[SEAL_DROP_EPOCH] = "old epoch",
	[SEAL_DROP_TOO_OLD] = "too old",
	[SEAL_DROP_REPLAY] = "replay",
	[SEAL_DROP_RATE] = "rate limited",
	[SEAL_DROP_AUTH] = "auth failed",
};

const char *seal_drop_name(enum seal_drop r)
{
	return (unsigned int)r < SEAL_DROP__MAX ? drop_names[r] : "?";
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static void put32(u8 *p, u32 v)
{
	put16(p, (u16)v);
	put16(p + 2, (u16)(v >> 16));
}

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get32(const u8 *p)
{
	return get16(p) | (u32)get16(p + 2) << 16;
}

void seal_hdr_put(u8 *p, const struct seal_hdr *h)
{
	put16(p, h->magic);
	p[2] = h->version;
	p[3] = h->type;
	p[4] = h->key_id;
	p[5] = h->flags;
	put16(p + 6, h->sender);
	put16(p + 8, h->receiver);
	put16(p + 10, h->rsv16);
	put32(p + 12, h->cluster);
	dl_put_le64(p + 16, h->epoch);
	put32(p + 24, h->salt);
	put32(p + 28, h->rsv32);
	dl_put_le64(p + 32, h->rx_epoch);
	dl_put_le64(p + 40, h->counter);
}

void seal_hdr_get(struct seal_hdr *h, const u8 *p)
{
	h->magic = get16(p);
	h->version = p[2];
	h->type = p[3];
	h->key_id = p[4];
	h->flags = p[5];
	h->sender = get16(p + 6);
	h->receiver = get16(p + 8);
	h->rsv16 = get16(p + 10);
	h->cluster = get32(p + 12);
	h->epoch = dl_get_le64(p + 16);
	h->salt = get32(p + 24);
	h->rsv32 = get32(p + 28);
	h->rx_epoch = dl_get_le64(p + 32);
	h->counter = dl_get_le64(p + 40);
}

void seal_init(struct seal_ctx *c, const struct seal_crypto_ops *ops,
	       u32 cluster, u16 self, u64 epoch, u32 salt)
{
	memzero_explicit(c, sizeof(*c));
	c->ops = ops;
	c->cluster = cluster;
	c->self = self;
	c->epoch = epoch;
	c->salt = salt;
	c->tx = -1;
	c->key_gen = 1;
	c->rate = SEAL_RATE_DEFAULT;
	c->burst = SEAL_BURST_DEFAULT;
}

static void peer_forget_boot(struct seal_peer *p)
{
	p->have = false;
	p->epoch = 0;
	p->salt = 0;
	p->top = 0;
	memset(p->bits, 0, sizeof(p->bits));
	memzero_explicit(p->rx_key, sizeof(p->rx_key));
	p->rx_gen[0] = 0;
	p->rx_gen[1] = 0;
}

int seal_set_peer(struct seal_ctx *c, unsigned int slot, u16 id)
{
	unsigned int i;

	if (slot >= SEAL_PEERS || (id && id == c->self))
		return -EINVAL;
	for (i = 0; id && i < SEAL_PEERS; i++)
		if (i != slot && c->peer[i].id == id)
			return -EINVAL;
	if (c->peer[slot].id != id) {
		/* another node in this slot: nothing of the old one applies */
		peer_forget_boot(&c->peer[slot]);
		c->peer[slot].t_init = false;
		c->peer[slot].id = id;
	}
	return 0;
}

int seal_set_keys(struct seal_ctx *c, const struct seal_key k[2], int tx)
{
	unsigned int i;

	if (tx < -1 || tx > 1 || (tx >= 0 && !k[tx].valid))
		return -EINVAL;
	if (k[0].valid && k[1].valid && k[0].id == k[1].id)
		return -EINVAL;
	memzero_explicit(c->key, sizeof(c->key));
	memzero_explicit(c->tx_key, sizeof(c->tx_key));
	for (i = 0; i < 2; i++)
		if (k[i].valid)
			c->key[i] = k[i];
	c->tx = tx;
	c->tx_gen = 0;
	/* 0 marks a derived key as absent: skip it when the count wraps */
	if (PLANT(14))
		return 0;
	if (!++c->key_gen)
		c->key_gen = 1;
	for (i = 0; i < SEAL_PEERS; i++) {
		memzero_explicit(c->peer[i].rx_key, sizeof(c->peer[i].rx_key));
		c->peer[i].rx_gen[0] = 0;
		c->peer[i].rx_gen[1] = 0;
	}
	return 0;
}

int seal_set_rate(struct seal_ctx *c, u64 rate, u64 burst)
{
	if (burst < SEAL_MAX + SEAL_COST_FIXED + SEAL_COST_KDF ||
	    burst > (1ULL << 32) || rate > (1ULL << 32))
		return -EINVAL;
	c->rate = rate;
	c->burst = burst;
	return 0;
}

void seal_wipe(struct seal_ctx *c)
{
	memzero_explicit(c, sizeof(*c));
}

/* The per-boot key of sender under key slot k. */
static void derive(const struct seal_ctx *c, int k, u16 sender, u64 epoch,
		   u32 salt, u8 *out)
{
	u8 in[KDF_IN];

	memcpy(in, KDF_LABEL, KDF_LABEL_LEN);
	in[KDF_LABEL_LEN] = c->key[k].id;
	put32(in + KDF_LABEL_LEN + 1, c->cluster);
	put16(in + KDF_LABEL_LEN + 5, sender);
	dl_put_le64(in + KDF_LABEL_LEN + 7, epoch);
	put32(in + KDF_LABEL_LEN + 15, PLANT(8) ? 0 : salt);
	c->ops->kdf(out, c->key[k].key, in, KDF_IN);
}

static int seal_for(struct seal_ctx *c, unsigned int slot, u8 *buf, u32 len,
		    bool any_boot)
{
	struct seal_hdr h = {
		.magic = SEAL_MAGIC,
		.version = SEAL_VERSION,
		.type = SEAL_TYPE_DATA,
	};
	const struct seal_peer *p;

	if (slot >= SEAL_PEERS || !c->peer[slot].id || len > SEAL_BODY_MAX)
		return -EINVAL;
	if (c->tx < 0)
		return -ENOKEY;
	if (c->counter >= SEAL_COUNTER_LIMIT)
		return -EOVERFLOW;
	if (c->tx_gen != c->key_gen) {
		derive(c, c->tx, c->self, c->epoch, c->salt, c->tx_key);
		c->tx_gen = c->key_gen;
	}
	p = &c->peer[slot];
	h.key_id = c->key[c->tx].id;
	h.sender = c->self;
	h.receiver = p->id;
	h.cluster = c->cluster;
	h.epoch = c->epoch;
	h.salt = c->salt;
	h.rx_epoch = p->have && (!any_boot || PLANT(17)) ? p->epoch : 0;
	h.counter = PLANT(15) ? c->counter : c->counter++;
	seal_hdr_put(buf, &h);
	c->ops->seal(buf + SEAL_HDR, buf + SEAL_HDR, len, buf,
		     PLANT(7) ? 32 : SEAL_HDR, h.counter, c->tx_key);
	return SEAL_HDR + len + SEAL_TAG;
}

int seal_datagram(struct seal_ctx *c, unsigned int slot, u8 *buf, u32 len)
{
	return seal_for(c, slot, buf, len, false);
}

int seal_datagram_any_boot(struct seal_ctx *c, unsigned int slot, u8 *buf,
			   u32 len)
{
	return seal_for(c, slot, buf, len, true);
}

static int peer_slot(const struct seal_ctx *c, u16 id)
{
	int i;

	for (i = 0; id && i < SEAL_PEERS; i++)
		if (c->peer[i].id == id)
			return i;
	return -1;
}

static int key_slot(const struct seal_ctx *c, u8 id)
{
	int i;

	for (i = 0; i < 2; i++)
		if (c->key[i].valid && c->key[i].id == id)
			return i;
	return -1;
}

/*
 * Counter n against p's window (WireGuard's counter_validate, split so that
 * nothing changes until the tag has verified).  Counters are kept one up,
 * so that top 0 means none yet.
 */
static enum seal_drop window_check(const struct seal_peer *p, u64 n)
{
	u64 s = n + 1;

	if (s > p->top)
		return SEAL_OK;
	if (p->top - s >= SEAL_WINDOW && !PLANT(3))
		return SEAL_DROP_TOO_OLD;
	if (!PLANT(1) && p->bits[(s >> 6) & (WINDOW_WORDS - 1)] & (1ULL << (s & 63)))
		return SEAL_DROP_REPLAY;
	return SEAL_OK;
}

static void window_commit(struct seal_peer *p, u64 n)
{
	u64 s = n + 1, i, cur, gap;

	if (s > p->top) {
		/* clear the words the window slides over, at most all */
		cur = p->top >> 6;
		gap = min((s >> 6) - cur, (u64)WINDOW_WORDS);
		for (i = 1; i <= gap; i++)
			p->bits[(cur + i) & (WINDOW_WORDS - 1)] = 0;
		p->top = s;
	}
	if (!PLANT(2))
		p->bits[(s >> 6) & (WINDOW_WORDS - 1)] |= 1ULL << (s & 63);
}

static bool bucket_take(const struct seal_ctx *c, struct seal_peer *p,
			u64 now, u64 cost)
{
	u64 dt, add;

	if (!p->t_init) {
		p->tokens = c->burst;
		p->t_init = true;
	} else if (now > p->t_last) {
		dt = now - p->t_last;
		/* no overflow: dt * rate < 1e9 * (burst + rate) < 2^64 */
		if (dt >= NSEC_PER_S * (c->burst / (c->rate | 1) + 1))
			add = c->burst;
		else
			add = dt * c->rate / NSEC_PER_S;
		p->tokens = min(c->burst, p->tokens + add);
	}
	p->t_last = now;
	if (p->tokens < cost && !PLANT(10))
		return false;
	p->tokens -= min(cost, p->tokens);
	return true;
}

/* (epoch, salt) of a boot, compared as one number: later boots are larger */
static bool boot_newer(u64 e1, u32 s1, u64 e2, u32 s2)
{
	return e1 > e2 || (e1 == e2 && s1 > s2);
}

/* The checks before any cryptography, in the order the drops are counted. */
static enum seal_drop check_header(const struct seal_ctx *c,
				   const struct seal_hdr *h, int src,
				   int *slot, int *k)
{
	if (h->magic != SEAL_MAGIC || h->version != SEAL_VERSION ||
	    h->type != SEAL_TYPE_DATA || h->flags ||
	    ((h->rsv16 || h->rsv32) && !PLANT(16)) ||
	    h->counter >= SEAL_COUNTER_LIMIT)
		return SEAL_DROP_VERSION;
	if (h->cluster != c->cluster && !PLANT(4))
		return SEAL_DROP_CLUSTER;
	if (h->receiver != c->self && !PLANT(5))
		return SEAL_DROP_RECEIVER;
	*slot = peer_slot(c, h->sender);
	if (*slot < 0 || (src >= 0 && src != *slot && !PLANT(6)))
		return SEAL_DROP_SENDER;
	/* sent to another boot of ours (0: the sender has not heard one yet) */
	if (h->rx_epoch && h->rx_epoch != c->epoch && !PLANT(13))
		return SEAL_DROP_EPOCH;
	*k = key_slot(c, h->key_id);
	if (*k < 0)
		return SEAL_DROP_KEY;
	return SEAL_OK;
}

enum seal_drop seal_open(struct seal_ctx *c, int src, u8 *buf, u32 len,
			 u64 now, u32 *body_len, unsigned int *from)
{
	u8 boot_key[SEAL_KEY_LEN];
	struct seal_peer *p;
	struct seal_hdr h;
	enum seal_drop r;
	bool new_boot, derive_now;
	const u8 *key;
	int slot = -1, k = -1;
	u64 cost;

	if (len < SEAL_HDR + SEAL_TAG || len > SEAL_MAX) {
		r = SEAL_DROP_LEN;
		goto drop;
	}
	seal_hdr_get(&h, buf);
	r = check_header(c, &h, src, &slot, &k);
	if (r)
		goto drop;
	p = &c->peer[slot];
	new_boot = !p->have || boot_newer(h.epoch, h.salt, p->epoch, p->salt) ||
		   (PLANT(12) && (h.epoch != p->epoch || h.salt != p->salt));
	if (!new_boot && (h.epoch != p->epoch || h.salt != p->salt)) {
		r = SEAL_DROP_EPOCH;
		goto drop;
	}
	if (!new_boot) {
		r = window_check(p, h.counter);
		if (r)
			goto drop;
	}
	derive_now = new_boot || p->rx_gen[k] != c->key_gen;
	cost = len + SEAL_COST_FIXED + (derive_now ? SEAL_COST_KDF : 0);
	if (!bucket_take(c, p, now, cost)) {
		r = SEAL_DROP_RATE;
		goto drop;
	}
	if (PLANT(11) && new_boot) {
		peer_forget_boot(p);
		p->have = true;
		p->epoch = h.epoch;
		p->salt = h.salt;
	}
	key = p->rx_key[k];
	if (new_boot) {
		/* not kept until the datagram proves this boot is real */
		derive(c, k, h.sender, h.epoch, h.salt, boot_key);
		key = boot_key;
	} else if (derive_now) {
		derive(c, k, h.sender, h.epoch, h.salt, p->rx_key[k]);
		p->rx_gen[k] = c->key_gen;
	}
	if (!c->ops->open(buf + SEAL_HDR, buf + SEAL_HDR,
			  len - SEAL_HDR - SEAL_TAG, buf,
			  PLANT(7) ? 32 : SEAL_HDR, h.counter, key)) {
		memzero_explicit(boot_key, sizeof(boot_key));
		r = SEAL_DROP_AUTH;
		goto drop;
	}
	/* authentic: what it cost is given back, forgeries alone spend */
	if (!PLANT(9))
		p->tokens = min(c->burst, p->tokens + cost);
	if (new_boot) {
		peer_forget_boot(p);
		p->have = true;
		p->epoch = h.epoch;
		p->salt = h.salt;
		memcpy(p->rx_key[k], boot_key, SEAL_KEY_LEN);
		p->rx_gen[k] = c->key_gen;
		memzero_explicit(boot_key, sizeof(boot_key));
	}
	window_commit(p, h.counter);
	c->accepted++;
	*body_len = len - SEAL_HDR - SEAL_TAG;
	*from = (unsigned int)slot;
	return SEAL_OK;
drop:
	c->drops[r]++;
	return r;
}
