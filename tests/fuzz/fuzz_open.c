// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the receive path of a sealed peer datagram:
 * seal_open() and then wire_decode() of what it accepts, as the socket code
 * runs them.  An input is a script of records, each [op u8][len u16 LE]
 * [len bytes], played against one receiver (node 2) and one honest sender
 * (node 1) that share a cluster and two keys:
 *   op 0: the bytes are a datagram from anyone: open it (from slot 0 or -1)
 *   op 1: the sender seals the bytes (first 9: counter u64, flags u8) as a
 *         body, the datagram is then changed as the flags say (flip one
 *         byte, truncate, replay the previous one), and opened
 *   op 2: the sender restarts (new epoch, older or newer, new salt)
 *   op 3: keys rotate (the sender sends with the other key, or drops one)
 *   op 4: the clock moves on (token bucket)
 * It aborts when a datagram the honest sender did not make is accepted, when
 * one datagram is accepted twice, or when the reasons do not add up; ASan
 * and UBSan catch any read outside a buffer (every buffer is its exact size).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../kmod/seal.h"
#include "../../kmod/wire.h"
#include "../host/seal_host.h"

#define MAX_ACC	4096

static struct repl_msg m;	/* too big for a stack: static */
static struct seal_ctx rx, tx;
static struct {
	u64 epoch, counter;
	u32 salt;
} acc[MAX_ACC];
static unsigned int n_acc;
static u64 n_open;

static void keys(struct seal_ctx *c, int phase)
{
	struct seal_key k[2] = { 0 };

	memset(k[0].key, 0x11, SEAL_KEY_LEN);
	k[0].id = 1;
	k[0].valid = phase != 2;
	memset(k[1].key, 0x22, SEAL_KEY_LEN);
	k[1].id = 2;
	k[1].valid = phase != 0;
	if (seal_set_keys(c, k, phase == 0 ? 0 : 1))
		abort();
}

/* abort if this exact datagram of the honest sender was accepted before */
static void accepted(const u8 *d)
{
	struct seal_hdr h;
	unsigned int i;

	seal_hdr_get(&h, d);
	for (i = 0; i < n_acc; i++)
		if (acc[i].epoch == h.epoch && acc[i].salt == h.salt &&
		    acc[i].counter == h.counter)
			abort();
	if (n_acc < MAX_ACC) {
		acc[n_acc].epoch = h.epoch;
		acc[n_acc].salt = h.salt;
		acc[n_acc++].counter = h.counter;
	}
}

static void decode(const u8 *body, u32 len)
{
	u8 *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, body, len);
	err = wire_decode(&m, copy, len);
	if (err && err != -EMSGSIZE && err != -EPROTO && err != -EINVAL)
		abort();
	free(copy);
}

/* open d (its exact size); honest: it came from the sender unchanged */
static void open_one(const u8 *d, u32 len, int src, u64 now, bool honest)
{
	u8 *buf = malloc(len ? len : 1);
	unsigned int from = 99;
	u32 blen = 0;
	enum seal_drop r;

	memcpy(buf, d, len);
	n_open++;
	r = seal_open(&rx, src, buf, len, now, &blen, &from);
	if (r == SEAL_OK) {
		if (!honest || from != 0 || blen != len - SEAL_HDR - SEAL_TAG)
			abort();
		accepted(d);
		decode(buf + SEAL_HDR, blen);
	} else if ((unsigned int)r >= SEAL_DROP__MAX) {
		abort();
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 *prev;
	bool prev_ok = false;
	u32 prev_len = 0, len, i;
	u64 now = 1000, epoch = 5000, total = 0;
	int phase = 0;
	u8 op, *d;

	seal_init(&rx, &seal_host_ops, 7, 2, 9000, 1);
	seal_init(&tx, &seal_host_ops, 7, 1, epoch, 3);
	if (seal_set_peer(&rx, 0, 1) || seal_set_peer(&tx, 0, 2))
		abort();
	/* the sender has heard the receiver's boot: it names it */
	tx.peer[0].have = true;
	tx.peer[0].epoch = 9000;
	keys(&rx, 0);
	keys(&tx, 0);
	n_acc = 0;
	n_open = 0;
	free(prev);
	prev = NULL;
	while (size >= 3) {
		op = data[0] % 5;
		len = data[1] | (u32)data[2] << 8;
		data += 3;
		size -= 3;
		if (len > size)
			len = (u32)size;
		if (op == 0) {
			open_one(data, len, len & 1 ? 0 : -1, now, false);
		} else if (op == 1 && len >= 9) {
			u8 flags = data[8];
			u32 blen = len - 9, n = SEAL_HDR + blen + SEAL_TAG;
			int got;

			tx.counter = dl_get_le64(data) % (SEAL_WINDOW * 4);
			d = malloc(n);
			memcpy(d + SEAL_HDR, data + 9, blen);
			got = seal_datagram(&tx, 0, d, blen);
			if (got != (int)n)
				abort();
			if ((flags & 3) == 1) {
				/* flip one bit: never accepted */
				d[dl_get_le64(data) % n] ^= 1 << (flags >> 5);
				open_one(d, n, 0, now, false);
			} else if ((flags & 3) == 2) {
				/* cut short: never accepted */
				open_one(d, n - 1 - (flags >> 2) % (n - 1), 0,
					 now, false);
			} else if ((flags & 3) == 3 && prev) {
				/* the previous one again: accepted at most once */
				open_one(prev, prev_len, 0, now, prev_ok);
			} else {
				open_one(d, n, 0, now, true);
			}
			free(prev);
			prev = d;
			prev_len = n;
			prev_ok = (flags & 3) != 1;
		} else if (op == 2) {
			/* a restart: the epoch may go back (a clock set back) */
			epoch += len ? (u64)data[0] * 1000 : 0;
			if (len > 1 && data[1] & 1)
				epoch -= 500;
			seal_init(&tx, &seal_host_ops, 7, 1, epoch,
				  len > 2 ? data[2] : 3);
			if (seal_set_peer(&tx, 0, 2))
				abort();
			/* it may name an older boot of the receiver */
			tx.peer[0].have = true;
			tx.peer[0].epoch = len > 1 && data[1] & 2 ? 8999 : 9000;
			keys(&tx, phase);
		} else if (op == 3) {
			phase = (phase + 1) % 3;
			keys(len ? &rx : &tx, phase);
		} else if (op == 4) {
			now += (u64)(len ? data[0] : 1) << 20;
		}
		data += len;
		size -= len;
	}
	for (i = 0; i < SEAL_DROP__MAX; i++)
		total += rx.drops[i];
	/* every accepted datagram was counted once, every drop by a reason */
	if (rx.drops[SEAL_OK] || total + rx.accepted != n_open ||
	    (n_acc < MAX_ACC && rx.accepted != n_acc))
		abort();
	seal_wipe(&rx);
	seal_wipe(&tx);
	return 0;
}
