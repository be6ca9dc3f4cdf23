// SPDX-License-Identifier: GPL-2.0
/*
 * sim -T: a client's socket closes (sim_int.h).  Its node sends the
 * CLIENT_END that ends the client's session everywhere, and sends it again
 * until it commits or the node restarts (whose next NODE_START ends the
 * session instead).
 */
#include "sim_int.h"

static void end_send(struct client_end *e)
{
	struct repl_cmd end;

	memset(&end, 0, sizeof(end));
	end.op = REPL_OP_CLIENT_END;
	end.client = e->client;
	end.req = e->req;
	S.cur_node = e->node;
	repl_request(S.node[e->node].r, &end, local_of(e->node, S.now));
	node_sched_tick(e->node);
}

void tclient_end(struct client *c)
{
	struct client_end *e = NULL;
	int i;

	tclient_owner_retire(c);
	if (!S.node[c->node].up)
		return;		/* its node's next NODE_START ends it */
	for (i = 0; i < MAX_ENDS && !e; i++)
		if (!S.ends[i].on)
			e = &S.ends[i];
	if (!e) {
		violate("more than %d client ends in flight", MAX_ENDS);
		return;
	}
	T.ended_sent++;
	*e = (struct client_end){ true, c->node, S.node[c->node].boot, c->id,
				  ++c->next_req };
	end_send(e);
	push(S.now + 150 * MS, EV_FAULT, 0, 3000 + (u32)(e - S.ends), NULL, 0);
}

void tclient_end_retry(int slot)
{
	struct client_end *e = &S.ends[slot];

	if (!e->on)
		return;
	if (!S.node[e->node].up || S.node[e->node].boot != e->boot) {
		e->on = false;	/* the node's next NODE_START ends it */
		return;
	}
	end_send(e);
	push(S.now + 150 * MS, EV_FAULT, 0, 3000 + (u32)slot, NULL, 0);
}

void tclient_end_answered(const struct repl_cmd *cmd)
{
	int i;

	for (i = 0; i < MAX_ENDS; i++)
		if (S.ends[i].on && S.ends[i].client == cmd->client &&
		    S.ends[i].req == cmd->req)
			S.ends[i].on = false;
}
