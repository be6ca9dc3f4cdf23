// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the table adapter (kmod/table_sm*.c): the input is a
 * sequence of commands, each a small header (op, node, client, TTL, body
 * length) and a raw body, applied to two nodes with different clocks; a
 * byte of 0xff instead loads the rest of the input as a snapshot.  The
 * decoder must refuse or accept exactly what re-encodes to the same bytes,
 * both nodes must keep giving the same answers and digests, every table must
 * stay consistent, and a snapshot taken at the end must load into a third
 * node with the same digest.  ASan/UBSan catch any read outside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "table_sm.h"

static void *f_alloc(void *ctx, size_t size)
{
	return malloc(size);
}

static void f_free(void *ctx, void *p, size_t size)
{
	free(p);
}

static struct table_sm *mk(void)
{
	struct table_sm_cfg cfg = {
		.nr_shards = 2, .hash_seed = 1, .max_leases = 64,
		.max_waiters = 64, .alloc = f_alloc, .free = f_free,
	};

	return table_sm_create(&cfg);
}

/* Decode, and if accepted, encode again: the same bytes. */
static void roundtrip(const struct repl_cmd *c)
{
	static struct repl_cmd c2;
	struct tsm_body b;

	if (tsm_decode(c, &b))
		return;
	if (tsm_encode(&c2, c->op, c->node, c->client, c->req, &b) ||
	    c2.len != c->len || memcmp(c2.data, c->data, c->len))
		abort();
}

static void snapshot_check(struct table_sm *a)
{
	struct table_sm *c = mk();
	u64 cap = table_sm_ops.save_size(a);
	u8 *buf = malloc(cap + 1);
	s64 n = table_sm_ops.save(a, buf, cap);

	if (n < 0 || (u64)n != cap ||
	    table_sm_ops.load(c, buf, (u64)n, 5) ||
	    table_sm_digest(c) != table_sm_digest(a) ||
	    dl_table_check(table_sm_table(c)))
		abort();
	free(buf);
	table_sm_destroy(c);
}

static u8 at(const u8 *p, u32 len, u32 i)
{
	return i < len ? p[i] : 0;
}

/*
 * A valid body made of the input's bytes, so that the fuzzer spends its
 * time in the table rather than on finding the body's layout.
 */
static void structured(struct repl_cmd *c, const u8 *p, u32 len)
{
	static const char *names[] = { "a", "b", "c", "lock/long-name" };
	static const char *owners[] = { "", "own", "other" };
	struct tsm_body b = { 0 };
	u8 o = at(p, len, 3) % 3;

	b.name = names[at(p, len, 0) % 4];
	b.name_len = strlen(b.name);
	b.mode = at(p, len, 1) % 3;
	b.permits = b.mode == DL_MODE_SEMAPHORE ? 1 + at(p, len, 2) % 3 : 0;
	b.flags = at(p, len, 4) & DL_ACQ_FLAGS;
	if (o)
		b.flags |= DL_ACQ_DETACHED;
	b.owner = owners[o];
	b.owner_len = strlen(owners[o]);
	b.tag = o ? 0 : at(p, len, 5) % 3;
	b.wait_ms = at(p, len, 6) % 4 * 100;
	b.cookie = at(p, len, 7) % 4;
	b.token = at(p, len, 8);
	b.stamp = at(p, len, 9);
	b.uid = at(p, len, 10) % 2;
	b.privileged = at(p, len, 11) & 1;
	b.value = p;
	b.value_len = c->op == REPL_OP_SET_VALUE ? len : 0;
	if (c->op == REPL_OP_EXPIRE)
		b.flags = at(p, len, 4) & TSM_EXPIRE_WAIT;
	/* Keep only what the op reads, as a client's encoder would. */
	if (c->op != REPL_OP_ACQUIRE) {
		b.mode = 0;
		b.permits = 0;
		b.wait_ms = 0;
	}
	if (c->op != REPL_OP_ACQUIRE && c->op != REPL_OP_EXPIRE)
		b.flags = 0;
	if (c->op == REPL_OP_CANCEL || c->op == REPL_OP_BREAK ||
	    c->op == REPL_OP_EXPIRE) {
		b.owner_len = 0;
		if (c->op != REPL_OP_EXPIRE)
			b.tag = 0;
	}
	if (c->op != REPL_OP_ACQUIRE && c->op != REPL_OP_CANCEL &&
	    c->op != REPL_OP_EXPIRE)
		b.cookie = 0;
	if (c->op != REPL_OP_BREAK && c->op != REPL_OP_EXPIRE)
		b.token = 0;
	if (c->op != REPL_OP_EXPIRE)
		b.stamp = 0;
	if (c->op == REPL_OP_CANCEL || c->op == REPL_OP_EXPIRE)
		b.uid = b.privileged = 0;
	tsm_encode(c, c->op, c->node, c->client, c->req, &b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct repl_cmd cmd;
	struct table_sm *n[2] = { mk(), mk() };
	struct repl_result r[2];
	u64 index = 0, now = 1000000000ULL;
	size_t off = 0;
	int i;

	while (off + 6 <= size) {
		const u8 *h = data + off;
		u32 len = h[5] % 128;

		if (h[0] == 0xff) {
			u8 *copy = malloc(size - off);

			memcpy(copy, h + 1, size - off - 1);
			if (!table_sm_ops.load(n[0], copy, size - off - 1, now))
				table_sm_ops.load(n[1], copy, size - off - 1,
						  now + 3);
			free(copy);
			break;
		}
		if (off + 6 + len > size)
			break;
		memset(&cmd, 0, sizeof(cmd));
		cmd.op = h[0] % 12;
		if (h[0] & 0x80)
			structured(&cmd, h + 6, len);
		cmd.node = h[1] % 4;
		cmd.client = h[2] % 8;
		cmd.req = (u32)index;
		cmd.ttl = (u64)(h[3] % 4) * 1000000000ULL;
		cmd.hold = cmd.ttl + cmd.ttl / 64;
		cmd.arg = index > h[4] ? index - h[4] : 0;
		if (!(h[0] & 0x80)) {
			cmd.len = (u16)len;
			memcpy(cmd.data, h + 6, len);
		}
		off += 6 + len;
		roundtrip(&cmd);
		index++;
		now += (u64)h[4] * 10000000ULL;
		for (i = 0; i < 2; i++)
			table_sm_ops.apply(n[i], &cmd, index, index << 8,
					   now + (u64)i * 7, &r[i]);
		if (memcmp(&r[0], &r[1], sizeof(r[0])) ||
		    table_sm_digest(n[0]) != table_sm_digest(n[1]))
			abort();
		if (h[4] & 1) {
			while (table_sm_ops.next_expired(n[0], now, &cmd)) {
				index++;
				for (i = 0; i < 2; i++)
					table_sm_ops.apply(n[i], &cmd, index,
							   index << 8, now, &r[i]);
			}
		}
	}
	for (i = 0; i < 2; i++)
		if (dl_table_check(table_sm_table(n[i])))
			abort();
	snapshot_check(n[0]);
	table_sm_destroy(n[0]);
	table_sm_destroy(n[1]);
	return 0;
}
