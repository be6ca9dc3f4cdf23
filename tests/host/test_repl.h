/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host tests of the replication core on the lock-step harness
 * share (test_repl.c, test_repl_dedup.c): a world of n nodes, a capture of
 * one node's messages, drops by message type, and a client's request
 * and its answer at the origin node.
 */
#ifndef TEST_REPL_H
#define TEST_REPL_H

#include "tap.h"

#define NCL		64
#define MAXQ		100000
#define SEED		1234
#define MAX_TTL_MS	1000
#define HARNESS_STICKY	true	/* as the kernel runs; plant 44 */
#include "repl_harness.h"

/* capture of messages sent by one node */
static struct {
	int from;
	u8 type;
	int n;
	u8 flags;
} cap;

static u32 drop_types[NN];	/* bitmask of message types dropped to node */
static u32 elect_min_ms[NN];	/* per-node election timeout; 0: default */

static inline int net(int from, const struct repl_msg *m)
{
	if (from == cap.from && m->type == cap.type) {
		cap.n++;
		cap.flags |= m->flags;
	}
	return drop_types[m->to] & (1u << m->type) ? DROP : PASS;
}

static inline void setup(int n)
{
	new_world(n, elect_min_ms, 50);
	memset(&cap, 0, sizeof(cap));
	cap.from = -1;
	memset(drop_types, 0, sizeof(drop_types));
	H.filter = net;
}

static inline int leader(void)
{
	int i, l = -1;

	for (i = 0; i < H.n; i++)
		if (H.nd[i].up && st(i).role == REPL_LEADER) {
			if (l >= 0)
				return -2;	/* two leaders */
			l = i;
		}
	return l;
}

static inline int follower_of(int l)
{
	return (l + 1) % H.n;
}

static struct repl_cmd cmd;	/* the next request's; tests may tweak it */

static inline int request(int node, u8 op, u32 client, u32 req, u32 lock,
			  u64 ttl, u8 mode)
{
	memset(&cmd, 0, sizeof(cmd));
	cmd.op = op;
	cmd.client = client;
	cmd.req = req;
	cmd.ttl = ttl;
	lm_cmd_set(&cmd, lock, mode);
	H.nd[node].got[client] = false;
	return repl_request(H.nd[node].r, &cmd, H.now);
}

/* request and wait up to 'ms' for the answer at the origin node */
static inline bool call(int node, u8 op, u32 client, u32 req, u32 lock,
			u64 ttl, u64 ms)
{
	if (request(node, op, client, req, lock, ttl, LM_MODE_EXCL))
		return false;
	while (ms-- && !H.nd[node].got[client])
		step();
	return H.nd[node].got[client];
}

static inline bool holds(int node, u32 lock, u32 client)
{
	return lockmodel_find(&H.nd[node].sm, lock, client) != NULL;
}

#endif /* TEST_REPL_H */
