// SPDX-License-Identifier: GPL-2.0
/* Host unit tests for the peer wire codec (kmod/wire.c). TAP output. */
#include "tap.h"
#include "wire.h"

static u8 buf[WIRE_MAX + 64], buf2[WIRE_MAX + 64];
static struct repl_msg m, d;	/* too big for a kernel stack: static */

/* entry i's body: i * 37 bytes (0 for the first), a pattern of its own */
static void body(struct repl_cmd *c, u16 len, u8 seed)
{
	u16 k;

	c->len = len;
	for (k = 0; k < len; k++)
		c->data[k] = (u8)(seed + k * 13);
}

static void fill(struct repl_msg *m, u8 type, u16 n_ent)
{
	u16 i;

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->flags = REPL_F_OK | REPL_F_LEADER;
	m->from = 1;
	m->to = 2;
	m->nonce = 0xdeadbeef;
	m->from_inc = 0x1122334455667788ULL;
	m->to_inc = 77;
	m->term = 5;
	m->index = 42;
	m->log_term = 4;
	m->commit = 40;
	m->t_send = 123456789;
	m->t_echo = 987654321;
	m->n_ent = n_ent;
	for (i = 0; i < n_ent; i++) {
		m->ent[i].term = 5;
		m->ent[i].cmd.op = REPL_OP_ACQUIRE;
		m->ent[i].cmd.node = 2;
		m->ent[i].cmd.client = 1000 + i;
		m->ent[i].cmd.req = 7;
		m->ent[i].cmd.ttl = 1000000;
		m->ent[i].cmd.hold = 1100000;
		m->ent[i].cmd.arg = i;
		body(&m->ent[i].cmd, (u16)(i * 37), (u8)i);
	}
}

static int same(const struct repl_msg *a, const struct repl_msg *b)
{
	u16 i;

	if (a->type != b->type || a->flags != b->flags || a->from != b->from ||
	    a->to != b->to || a->n_ent != b->n_ent || a->nonce != b->nonce ||
	    a->from_inc != b->from_inc || a->to_inc != b->to_inc ||
	    a->term != b->term || a->index != b->index ||
	    a->log_term != b->log_term || a->commit != b->commit ||
	    a->t_send != b->t_send || a->t_echo != b->t_echo ||
	    a->snap_len != b->snap_len || a->snap_off != b->snap_off ||
	    a->blob_len != b->blob_len)
		return 0;
	if (a->blob_len && memcmp(a->blob, b->blob, a->blob_len))
		return 0;
	for (i = 0; i < a->n_ent; i++) {
		const struct repl_entry *x = &a->ent[i], *y = &b->ent[i];

		if (x->term != y->term || x->cmd.op != y->cmd.op ||
		    x->cmd.flags != y->cmd.flags || x->cmd.node != y->cmd.node ||
		    x->cmd.client != y->cmd.client || x->cmd.req != y->cmd.req ||
		    x->cmd.len != y->cmd.len || x->cmd.ttl != y->cmd.ttl ||
		    x->cmd.hold != y->cmd.hold || x->cmd.arg != y->cmd.arg ||
		    memcmp(x->cmd.data, y->cmd.data, x->cmd.len))
			return 0;
	}
	return 1;
}

/* A datagram's entry k starts here (entries 0..k-1 as fill() makes them). */
static u32 ent_off(u16 k)
{
	u32 off = WIRE_HDR + WIRE_BODY;
	u16 i;

	for (i = 0; i < k; i++)
		off += WIRE_ENTRY + i * 37;
	return off;
}

static void test_bodies(void)
{
	static const u16 lens[] = { 0, 1, REPL_DATA_MAX };
	u32 i;
	int n, ok;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		fill(&m, REPL_MSG_FORWARD, 1);
		body(&m.ent[0].cmd, lens[i], 0x5a);
		n = wire_encode(&m, buf, sizeof(buf));
		memset(&d, 0xee, sizeof(d));
		tap_ok(n == WIRE_HDR + WIRE_BODY + WIRE_ENTRY + lens[i] + 4 &&
		       wire_decode(&d, buf, n) == 0 && same(&m, &d),
		       "round trip of a %u-byte body", lens[i]);
	}
	fill(&m, REPL_MSG_APPEND, 0);
	m.n_ent = REPL_MAX_BATCH;
	for (i = 0; i < REPL_MAX_BATCH; i++) {
		m.ent[i] = m.ent[0];
		m.ent[i].cmd.op = REPL_OP_SET_VALUE;
		m.ent[i].cmd.req = i;
		body(&m.ent[i].cmd, REPL_DATA_MAX, (u8)i);
	}
	n = wire_encode(&m, buf, sizeof(buf));
	tap_ok(n > 0 && n <= WIRE_MAX && wire_decode(&d, buf, n) == 0 &&
	       same(&m, &d),
	       "a full batch of %d largest bodies fits a datagram (%d bytes)",
	       REPL_MAX_BATCH, n);

	fill(&m, REPL_MSG_FORWARD, 1);
	m.ent[0].cmd.len = REPL_DATA_MAX + 1;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses a body longer than REPL_DATA_MAX");
	m.ent[0].cmd.len = 1;
	m.ent[0].cmd.flags = 1;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses unknown command flags");

	/* a refused FORWARD: header of the command only, a known reason */
	fill(&m, REPL_MSG_FORWARD, 1);
	m.flags = REPL_F_REFUSED;
	m.index = REPL_REFUSE_FULL;
	m.ent[0].cmd.len = 0;
	n = wire_encode(&m, buf, sizeof(buf));
	tap_ok(n > 0 && wire_decode(&d, buf, n) == 0 && same(&m, &d),
	       "round trip of a refused FORWARD");
	m.index = REPL_REFUSE__MAX;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses a refusal without a known reason");
	m.index = REPL_REFUSE_LATER;
	m.ent[0].cmd.len = 1;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses a refusal that carries a body");
	fill(&m, REPL_MSG_APPEND, 1);
	m.flags = REPL_F_REFUSED;
	m.index = REPL_REFUSE_LATER;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses the refused flag on anything but FORWARD");

	/* length field of entry 0 at +20: claim more than there is */
	fill(&m, REPL_MSG_FORWARD, 1);
	body(&m.ent[0].cmd, 10, 1);
	n = wire_encode(&m, buf, sizeof(buf));
	memcpy(buf2, buf, n);
	buf2[WIRE_HDR + WIRE_BODY + 20] = 11;
	tap_ok(wire_decode(&d, buf2, n) == -EMSGSIZE,
	       "body length one past the datagram's bytes: -EMSGSIZE");
	memcpy(buf2, buf, n);
	buf2[WIRE_HDR + WIRE_BODY + 20] = 9;
	tap_ok(wire_decode(&d, buf2, n) == -EMSGSIZE,
	       "body length one short (a byte left over): -EMSGSIZE");
	memcpy(buf2, buf, n);
	buf2[WIRE_HDR + WIRE_BODY + 20] = (u8)(REPL_DATA_MAX + 1);
	buf2[WIRE_HDR + WIRE_BODY + 21] = (u8)((REPL_DATA_MAX + 1) >> 8);
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL,
	       "body length above REPL_DATA_MAX: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[WIRE_HDR + WIRE_BODY + 20] = 0xff;
	buf2[WIRE_HDR + WIRE_BODY + 21] = 0xff;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL,
	       "body length 65535: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[WIRE_HDR + WIRE_BODY + 22] = 1;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "non-zero entry pad: -EINVAL");

	memset(buf2, 0, sizeof(buf2));
	fill(&m, REPL_MSG_VOTE_REQ, 0);
	n = wire_encode(&m, buf2, sizeof(buf2));
	ok = wire_decode(&d, buf2, WIRE_MAX + 1) == -EMSGSIZE;
	tap_ok(n > 0 && ok, "a datagram above WIRE_MAX: -EMSGSIZE");
}

static void test_chunks(void)
{
	static u8 chunk[WIRE_CHUNK_MAX + 1];
	int n;

	memset(chunk, 0xc3, sizeof(chunk));
	fill(&m, REPL_MSG_SNAP, 0);
	m.snap_len = 10ULL << 30;
	m.snap_off = (10ULL << 30) - WIRE_CHUNK_MAX;
	m.blob = chunk;
	m.blob_len = WIRE_CHUNK_MAX;
	n = wire_encode(&m, buf, sizeof(buf));
	tap_ok(n == WIRE_MAX && wire_decode(&d, buf, n) == 0 && same(&m, &d),
	       "the last chunk of a 10 GiB snapshot, WIRE_CHUNK_MAX bytes, fills a datagram exactly");
	m.blob_len = WIRE_CHUNK_MAX + 1;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses a chunk above WIRE_CHUNK_MAX");
	m.blob_len = 16;
	m.snap_len = 100;
	m.snap_off = 85;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses a chunk that ends past the snapshot");
	m.snap_off = 84;
	n = wire_encode(&m, buf, sizeof(buf));
	tap_ok(n > 0 && wire_decode(&d, buf, n) == 0 && d.snap_off == 84,
	       "a chunk that ends at the snapshot's end is fine");
	/* snap_off at +88 in the datagram: make it overflow with the length */
	memcpy(buf2, buf, n);
	memset(buf2 + WIRE_HDR + 48, 0xff, 8);
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL,
	       "offset + length wrapping around 2^64: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[WIRE_HDR + 48] = 85;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL,
	       "a chunk past the snapshot's end: -EINVAL");
	fill(&m, REPL_MSG_APPEND, 1);
	m.snap_len = 1;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "snapshot length on a message other than SNAP: -EINVAL");
	fill(&m, REPL_MSG_SNAP_RESP, 0);
	m.snap_off = 12345;
	n = wire_encode(&m, buf, sizeof(buf));
	tap_ok(n > 0 && wire_decode(&d, buf, n) == 0 && d.snap_off == 12345,
	       "SNAP_RESP carries the offset the follower holds");
}

int main(void)
{
	static u8 blob[WIRE_CHUNK_MAX];
	int n, t, bad, err;
	u32 cut;

	for (t = REPL_MSG_VOTE_REQ; t < REPL_MSG__MAX; t++) {
		u16 ne = t == REPL_MSG_APPEND ? REPL_MAX_BATCH :
			 t == REPL_MSG_FORWARD ? 1 : 0;

		fill(&m, (u8)t, ne);
		if (t == REPL_MSG_SNAP) {
			memset(blob, 0xab, 1000);
			m.blob = blob;
			m.blob_len = 1000;
			m.snap_len = 5000;
			m.snap_off = 1000;
		}
		if (t == REPL_MSG_SNAP_RESP)
			m.snap_off = 3000;
		n = wire_encode(&m, buf, sizeof(buf));
		tap_ok(n == (int)wire_size(&m) && wire_decode(&d, buf, n) == 0 &&
		       same(&m, &d), "round trip of message type %d", t);
	}

	fill(&m, REPL_MSG_APPEND, 2);
	n = wire_encode(&m, buf, sizeof(buf));
	tap_ok(buf[0] == 0x44 && buf[1] == 0x4c && buf[2] == WIRE_VERSION &&
	       buf[3] == REPL_MSG_APPEND, "header starts with magic, version, type");
	tap_ok(buf[16] == 0x88 && buf[23] == 0x11,
	       "from_inc is little-endian at offset 16");
	tap_ok(buf[32] == 5 && buf[40] == 42,
	       "term at offset 32, index at offset 40 (little-endian)");
	tap_ok(n == (int)ent_off(2) + 4 &&
	       buf[ent_off(1) + 20] == 37 && buf[ent_off(1) + 48] == 1 &&
	       buf[ent_off(1) + 49] == 14,
	       "entries: 48-byte header, then len bytes of body (size %d)", n);

	/* every truncation and every extension is refused */
	bad = 0;
	for (cut = 0; cut < (u32)n; cut++)
		if (wire_decode(&d, buf, cut) == 0)
			bad++;
	tap_ok(!bad, "every truncated datagram is rejected");
	buf[n] = 0;
	tap_ok(wire_decode(&d, buf, n + 1) == -EMSGSIZE,
	       "trailing byte is rejected with -EMSGSIZE");

	memcpy(buf2, buf, n);
	buf2[0] ^= 1;
	tap_ok(wire_decode(&d, buf2, n) == -EPROTO, "bad magic: -EPROTO");
	memcpy(buf2, buf, n);
	buf2[2] = 1;
	tap_ok(wire_decode(&d, buf2, n) == -EPROTO,
	       "version 1 (fixed-size entries) is refused: -EPROTO");
	memcpy(buf2, buf, n);
	buf2[3] = REPL_MSG__MAX;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "unknown type: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[3] = 0;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "type 0: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[4] = 0x80;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "unknown flag: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[5] = 1;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "non-zero pad: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[6] = REPL_MAX_NODES;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "sender out of range: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[10] = REPL_MAX_BATCH + 1;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "too many entries: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[10] = 3;	/* claims 3 entries, carries 2 */
	tap_ok(wire_decode(&d, buf2, n) == -EMSGSIZE,
	       "entry count beyond the datagram: -EMSGSIZE");
	memcpy(buf2, buf, n);
	buf2[WIRE_HDR + WIRE_BODY + 8] = REPL_OP__MAX;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "unknown command op: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[WIRE_HDR + WIRE_BODY + 9] = 1;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "unknown command flag: -EINVAL");
	memcpy(buf2, buf, n);
	buf2[n - 4] = 1;	/* blob length 1 on an APPEND, byte missing */
	tap_ok(wire_decode(&d, buf2, n) == -EMSGSIZE,
	       "blob length beyond the datagram: -EMSGSIZE");
	memcpy(buf2, buf, n);
	buf2[n - 4] = 1;
	buf2[n] = 0;
	tap_ok(wire_decode(&d, buf2, n + 1) == -EINVAL,
	       "blob on a message other than SNAP: -EINVAL");

	fill(&m, REPL_MSG_SNAP, 0);
	m.blob = blob;
	m.blob_len = 16;
	m.snap_len = 16;
	n = wire_encode(&m, buf, sizeof(buf));
	buf[n - 16 - 4 + 2] = 0x10;	/* claim 1 MiB of blob */
	tap_ok(wire_decode(&d, buf, n) == -EMSGSIZE, "oversized blob: -EMSGSIZE");

	fill(&m, REPL_MSG_FORWARD, 2);
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "FORWARD must carry exactly one command");
	fill(&m, REPL_MSG_VOTE_REQ, 1);
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "entries only on APPEND and FORWARD");
	fill(&m, REPL_MSG_APPEND, 4);
	tap_ok(wire_encode(&m, buf, 100) == -ENOSPC, "short buffer: -ENOSPC");
	fill(&m, REPL_MSG_SNAP, 0);
	m.blob = blob;
	m.blob_len = 17;
	m.snap_len = 16;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses a chunk longer than its snapshot");
	test_bodies();
	test_chunks();

	/* deterministic pseudo-random garbage never decodes out of bounds */
	{
		u64 x = 88172645463325252ULL;
		int ok = 0, i, j;

		for (i = 0; i < 20000; i++) {
			u32 len = (u32)(x % 600);

			fill(&m, REPL_MSG_APPEND, (u16)(x % 5));
			n = wire_encode(&m, buf, sizeof(buf));
			for (j = 0; j < 4; j++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				buf[x % (u32)n] = (u8)(x >> 32);
			}
			err = wire_decode(&d, buf, (x & 1) ? (u32)n : min(len, (u32)n));
			if (err == 0 || err == -EMSGSIZE || err == -EPROTO ||
			    err == -EINVAL)
				ok++;
		}
		tap_ok(ok == 20000, "20000 mutated datagrams: every answer is 0 or a documented error");
	}
	return tap_done();
}
