// SPDX-License-Identifier: GPL-2.0
/* Host unit tests for the peer wire codec (kmod/wire.c). TAP output. */
#include "tap.h"
#include "wire.h"

static u8 buf[WIRE_MAX], buf2[WIRE_MAX];

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
		m->ent[i].cmd.mode = REPL_MODE_SHARED;
		m->ent[i].cmd.node = 2;
		m->ent[i].cmd.client = 1000 + i;
		m->ent[i].cmd.req = 7;
		m->ent[i].cmd.lock = 3;
		m->ent[i].cmd.ttl = 1000000;
		m->ent[i].cmd.hold = 1100000;
		m->ent[i].cmd.arg = i;
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
	    a->blob_len != b->blob_len)
		return 0;
	if (a->blob_len && memcmp(a->blob, b->blob, a->blob_len))
		return 0;
	for (i = 0; i < a->n_ent; i++)
		if (memcmp(&a->ent[i], &b->ent[i], sizeof(a->ent[i])))
			return 0;
	return 1;
}

int main(void)
{
	struct repl_msg m, d;
	static u8 blob[WIRE_BLOB_MAX];
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
		}
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
	tap_ok(n == WIRE_HDR + WIRE_BODY + 2 * WIRE_ENTRY + 4,
	       "fixed-width layout: size %d", n);

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
	buf2[2] = 2;
	tap_ok(wire_decode(&d, buf2, n) == -EPROTO, "unknown version: -EPROTO");
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
	buf2[WIRE_HDR + WIRE_BODY + 9] = 7;
	tap_ok(wire_decode(&d, buf2, n) == -EINVAL, "unknown lock mode: -EINVAL");
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
	m.blob_len = WIRE_BLOB_MAX + 1;
	tap_ok(wire_encode(&m, buf, sizeof(buf)) == -EINVAL,
	       "encode refuses an oversized snapshot");

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
