// SPDX-License-Identifier: GPL-2.0
/*
 * Replication core: the idempotence (dedup) table, docs/protocol.md R8 and
 * R8a.  One slot per client (node, id): its last request and answer, so a
 * retransmission gets the first answer.  Only a client that holds and waits
 * for nothing loses its slot, and its node's floor then rises over its id:
 * whatever a forgotten client sends later is refused, never run again.
 */
#include "repl_int.h"

struct repl_dedup *repl_dedup_find(struct repl *r, u16 node, u32 client)
{
	u32 i;

	for (i = 0; i < r->nr_dedup; i++)
		if (r->dedup[i].client == client &&
		    (r->dedup[i].node == node ||
		     REPL_MUTATION == REPL_MUT_DEDUP_NO_NODE))
			return &r->dedup[i];
	return NULL;
}

/*
 * A client that holds or waits for something in the state machine keeps its
 * slot: its retried request must meet its own earlier answer.  Without the
 * hook every client counts as idle.
 */
static bool dedup_busy(struct repl *r, const struct repl_dedup *d)
{
	if (REPL_MUTATION == REPL_MUT_DEDUP_EVICT_BUSY)
		return false;
	return r->ops->busy && r->ops->busy(r->sm, d->node, d->client);
}

/*
 * A slot for a client new to the table.  When full, the least recently used
 * idle client's slot goes (the same choice on every node) and its node's
 * floor rises to that id, so whatever it sends later is refused, never run
 * again as new.  NULL when every slot's client is busy.
 */
static struct repl_dedup *dedup_slot(struct repl *r, u16 node, u32 client)
{
	struct repl_dedup *d = NULL;
	u32 i;

	if (r->nr_dedup < r->cfg.max_clients) {
		d = &r->dedup[r->nr_dedup++];
	} else {
		for (i = 0; i < r->nr_dedup; i++) {
			struct repl_dedup *e = &r->dedup[i];

			if (d && (REPL_MUTATION == REPL_MUT_DEDUP_EVICT_MRU ?
				  e->used <= d->used : e->used >= d->used))
				continue;
			if (!dedup_busy(r, e))
				d = e;
		}
		if (!d)
			return NULL;
		if (d->node < REPL_MAX_NODES && d->client > r->gone[d->node] &&
		    REPL_MUTATION != REPL_MUT_DEDUP_NO_FLOOR)
			r->gone[d->node] = d->client;
	}
	memset(d, 0, sizeof(*d));
	d->node = node;
	d->client = client;
	return d;
}

/*
 * A new life of @node (its NODE_START): the clients of its earlier lives
 * are gone, and nothing they sent is applied after it (R7a).  Their slots
 * go, and the node's floor covers their ids, so that a client of the new
 * life numbered like one of them (its clock went back, or the ids
 * wrapped) is renumbered, never answered from an old slot.
 */
void repl_dedup_forget_node(struct repl *r, u16 node)
{
	u32 i = 0;

	if (node >= REPL_MAX_NODES)
		return;
	while (i < r->nr_dedup) {
		struct repl_dedup *d = &r->dedup[i];

		if (d->node != node) {
			i++;
			continue;
		}
		if (d->client > r->gone[node])
			r->gone[node] = d->client;
		*d = r->dedup[--r->nr_dedup];
	}
}

/*
 * A command of a client without a slot: -EKEYEXPIRED if the table forgot
 * that client (an id at or below its node's floor, token = the floor, so
 * the node can number its next client above it), -EUSERS if every slot is
 * taken by a busy client; else 0 and *@dp is its new slot.  -EUSERS raises
 * the floor over the id: a copy of the refused request still on its way
 * (a retry) must not run once a slot is free, after its client was told
 * it did not.  A CLIENT_END
 * is run even without a slot: its tombstone must refuse the copies of its
 * client's requests still on their way, and running it twice changes
 * nothing more; the floor rises over its id, as for an evicted slot, so a
 * later client numbered like it is renumbered, not refused for good.
 */
int repl_dedup_admit(struct repl *r, const struct repl_cmd *c,
		     struct repl_dedup **dp, struct repl_result *res)
{
	if (c->node < REPL_MAX_NODES && c->client <= r->gone[c->node]) {
		res->token = r->gone[c->node];
		return -EKEYEXPIRED;
	}
	*dp = dedup_slot(r, c->node, c->client);
	if (*dp)
		return 0;
	if (c->op != REPL_OP_CLIENT_END ||
	    REPL_MUTATION == REPL_MUT_CLIENT_END_NEEDS_SLOT) {
		if (c->node < REPL_MAX_NODES && c->client > r->gone[c->node] &&
		    REPL_MUTATION != REPL_MUT_EUSERS_NO_FLOOR)
			r->gone[c->node] = c->client;
		return -EUSERS;
	}
	/* its tombstone has no slot beside it: the floor covers the id too */
	if (c->node < REPL_MAX_NODES && c->client > r->gone[c->node])
		r->gone[c->node] = c->client;
	return 0;
}

bool repl_answer_of(const struct repl *r, u16 node, u32 client, u32 req,
		    struct repl_result *res)
{
	u32 i;

	for (i = 0; i < r->nr_dedup; i++)
		if (r->dedup[i].client == client && r->dedup[i].node == node &&
		    r->dedup[i].req == req) {
			*res = r->dedup[i].res;
			return true;
		}
	return false;
}
