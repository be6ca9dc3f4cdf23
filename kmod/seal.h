/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlock sealed peer datagrams (issue 15): every peer message travels as
 *
 *   header  48 bytes, in clear, all of it the AEAD's associated data:
 *           magic u16 "DS", version u8 (1), type u8 (1: data), key id u8,
 *           flags u8 (0), sender u16, receiver u16, reserved u16 (0),
 *           cluster u32, epoch u64, salt u32, reserved u32 (0),
 *           receiver epoch u64 (0: not known yet), counter u64
 *   body    the wire-encoded message (wire.h), ChaCha20-Poly1305 encrypted
 *   tag     16 bytes
 *
 * under a per-boot key K = BLAKE2s-256(key = cluster key[key id],
 * "dlock seal v1" || key id || cluster || sender || epoch || salt) and the
 * nonce "counter" (the 64-bit nonce of the kernel's chacha20poly1305 library,
 * as WireGuard uses it).  docs/protocol.md section 12 says why a nonce is
 * never reused, also across restarts of a node that remembers nothing.
 *
 * This file is policy (plain C, compat.h only): the header, the checks made
 * before any cryptography, the replay window, the per-sender token bucket and
 * the drop counters.  The cryptography is the caller's, through struct
 * seal_crypto_ops (kmod/seal_crypto.c in the kernel, OpenSSL on the host).
 * Calls on one context must be serialized by the caller.
 */
#ifndef DLOCK_SEAL_H
#define DLOCK_SEAL_H

#include "compat.h"

#define SEAL_MAGIC		0x5344	/* "DS" */
#define SEAL_VERSION		1
#define SEAL_TYPE_DATA		1
#define SEAL_HDR		48
#define SEAL_TAG		16
#define SEAL_KEY_LEN		32
/* the largest body: WIRE_MAX (wire.h; test_seal.c checks they are equal) */
#define SEAL_BODY_MAX		65000
#define SEAL_MAX		(SEAL_HDR + SEAL_BODY_MAX + SEAL_TAG)
/* peers a context knows, by slot (the caller's node index) */
#define SEAL_PEERS		8
/*
 * Replay window: a ring of SEAL_WINDOW_BITS bits; a counter up to
 * SEAL_WINDOW_BITS - 64 below the highest one accepted can still come in
 * (reordering), once.
 */
#define SEAL_WINDOW_BITS	2048
#define SEAL_WINDOW		(SEAL_WINDOW_BITS - 64)
/* a sender stops before its counter reaches this (never in practice) */
#define SEAL_COUNTER_LIMIT	(~0ULL - 1)
/* token bucket defaults: bytes of unauthenticated work per second, burst */
#define SEAL_RATE_DEFAULT	(32ULL << 20)
#define SEAL_BURST_DEFAULT	(4ULL << 20)
/* what a datagram costs on top of its length, and a key derivation */
#define SEAL_COST_FIXED		256
#define SEAL_COST_KDF		512

/* Why a datagram was dropped; SEAL_OK (0): accepted. */
enum seal_drop {
	SEAL_OK = 0,
	SEAL_DROP_LEN,		/* shorter than header + tag, or too long */
	SEAL_DROP_VERSION,	/* magic, version, type, flags or reserved */
	SEAL_DROP_CLUSTER,	/* another cluster id */
	SEAL_DROP_RECEIVER,	/* receiver id is not ours */
	SEAL_DROP_SENDER,	/* sender unknown, ourselves, or not the source */
	SEAL_DROP_KEY,		/* key id not one of ours */
	SEAL_DROP_EPOCH,	/* an older boot of the sender, or sent to one of ours */
	SEAL_DROP_TOO_OLD,	/* counter below the replay window */
	SEAL_DROP_REPLAY,	/* counter already accepted */
	SEAL_DROP_RATE,		/* sender's token bucket empty */
	SEAL_DROP_AUTH,		/* tag does not verify */
	SEAL_DROP__MAX
};

/*
 * The cryptography, provided by the caller.  seal: dst[0..len + 16) =
 * ChaCha20-Poly1305(key, nonce = 0^32 || le64(nonce), ad, src[0..len)), dst
 * may equal src.  open: src holds len bytes of ciphertext and the 16-byte
 * tag; true and dst[0..len) the plaintext when the tag verifies, false
 * otherwise (dst then undefined); dst may equal src.  kdf: out =
 * BLAKE2s-256 keyed with key (32 bytes) over in[0..len).
 */
struct seal_crypto_ops {
	void (*seal)(u8 *dst, const u8 *src, u32 len, const u8 *ad, u32 ad_len,
		     u64 nonce, const u8 *key);
	bool (*open)(u8 *dst, const u8 *src, u32 len, const u8 *ad,
		     u32 ad_len, u64 nonce, const u8 *key);
	void (*kdf)(u8 *out, const u8 *key, const u8 *in, u32 len);
};

/* One of the (at most two) cluster keys. */
struct seal_key {
	u8 key[SEAL_KEY_LEN];
	u8 id;
	bool valid;
};

/* The decoded header. */
struct seal_hdr {
	u8 version, type, key_id, flags;
	u16 sender, receiver;
	u32 cluster;
	u64 epoch;
	u32 salt;
	u64 rx_epoch;
	u64 counter;
	u16 rsv16;
	u32 rsv32;
	u16 magic;
};

struct seal_peer {
	u16 id;			/* node id on the wire; 0: slot unused */
	/* what we last authenticated from it: its boot and replay window */
	bool have;
	u64 epoch;
	u32 salt;
	u64 top;		/* highest counter accepted + 1 (0: none) */
	u64 bits[SEAL_WINDOW_BITS / 64];
	/* its per-boot keys, derived under key slot k at generation gen[k] */
	u8 rx_key[2][SEAL_KEY_LEN];
	u32 rx_gen[2];
	/* token bucket, in bytes of work */
	u64 tokens;
	u64 t_last;
	bool t_init;
};

struct seal_ctx {
	const struct seal_crypto_ops *ops;
	u32 cluster;
	u16 self;		/* our node id on the wire */
	u64 epoch;		/* our boot: ktime_get_real_ns() at start */
	u32 salt;		/* and get_random_u32() */
	u64 counter;		/* next one we send */
	struct seal_key key[2];
	u32 key_gen;		/* bumped on every key change */
	int tx;			/* the key slot we send with; -1: none */
	u8 tx_key[SEAL_KEY_LEN];
	u32 tx_gen;
	u64 rate, burst;	/* token bucket, bytes/s and bytes */
	u64 accepted;
	u64 drops[SEAL_DROP__MAX];
	struct seal_peer peer[SEAL_PEERS];
};

/* A name for each reason, for counters and messages. */
const char *seal_drop_name(enum seal_drop r);

/*
 * Start a context.  epoch must grow across restarts of this node (the wall
 * clock in ns at start), salt is random; neither is stored anywhere.
 */
void seal_init(struct seal_ctx *c, const struct seal_crypto_ops *ops,
	       u32 cluster, u16 self, u64 epoch, u32 salt);
/* The peer in slot (< SEAL_PEERS) is node id (not ours); id 0 clears it. */
int seal_set_peer(struct seal_ctx *c, unsigned int slot, u16 id);
/*
 * Install the keys: k[0], k[1] (valid ones accepted, ids distinct), sending
 * with k[tx] (tx -1: receive only).  Returns 0 or -EINVAL.  The old keys
 * and everything derived from them are wiped.
 */
int seal_set_keys(struct seal_ctx *c, const struct seal_key k[2], int tx);
/*
 * The token bucket of every sender: rate bytes of unauthenticated work a
 * second, up to burst (at least SEAL_MAX + SEAL_COST_FIXED + SEAL_COST_KDF,
 * both at most 4 GiB).  Returns 0 or -EINVAL.
 */
int seal_set_rate(struct seal_ctx *c, u64 rate, u64 burst);
/* Wipe every key and state (call before freeing the context). */
void seal_wipe(struct seal_ctx *c);

/*
 * Seal in place for peer slot: buf[SEAL_HDR..SEAL_HDR + len) holds the
 * wire-encoded message, buf has room for SEAL_HDR + len + SEAL_TAG bytes.
 * Returns the datagram's length, or -EINVAL (bad slot, len above
 * SEAL_BODY_MAX), -ENOKEY (no sending key), -EOVERFLOW (counter spent).
 */
int seal_datagram(struct seal_ctx *c, unsigned int slot, u8 *buf, u32 len);
/*
 * The same, for whichever boot the receiver lives now (receiver epoch 0),
 * for a message the core addresses to no life in particular: a recovering
 * node's RECOVER_REQ, whose sender may have heard only a boot of the
 * receiver that has ended, and hears nothing else that would tell it the
 * new one.  Such a datagram is replayable once to a receiver that restarts
 * (docs/protocol.md section 12): a RECOVER_REQ replayed gets an answer its
 * sender ignores (the nonce).
 */
int seal_datagram_any_boot(struct seal_ctx *c, unsigned int slot, u8 *buf,
			   u32 len);

/*
 * Open in place a datagram of len bytes received at now (monotonic ns) from
 * source slot src (by address; -1: not known, trust the header).  Returns
 * SEAL_OK with the message at buf + SEAL_HDR, *body_len bytes long, and the
 * sender's slot in *from; or the reason it was dropped (counted in
 * c->drops).  Every check that needs no cryptography comes first; the
 * cryptography runs only while the sender's token bucket allows.
 */
enum seal_drop seal_open(struct seal_ctx *c, int src, u8 *buf, u32 len,
			 u64 now, u32 *body_len, unsigned int *from);

#ifdef __KERNEL__
/* kmod/seal_crypto.c: lib/crypto's, or NULL when this kernel lacks them */
const struct seal_crypto_ops *dlock_seal_crypto(void);
#endif

/* Header codec, exposed for tests and the fuzzer. */
void seal_hdr_put(u8 *p, const struct seal_hdr *h);
void seal_hdr_get(struct seal_hdr *h, const u8 *p);

#endif /* DLOCK_SEAL_H */
