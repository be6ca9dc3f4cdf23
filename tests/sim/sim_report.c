// SPDX-License-Identifier: GPL-2.0
/*
 * The simulator's summary of a run of seeds: what it did (operations,
 * messages, faults, parameter sets), what the checker looked at, and the
 * violations it found.  Printed at the end of sim -n.
 */
#include "sim_int.h"

const char *const fault_name[F__N] = {
	"message loss", "duplication", "delay/reorder", "partition (symmetric)",
	"partition (one-way)", "node crash+restart", "whole-cluster restart",
	"client crash", "append batch split",
};

void sim_report(void)
{
	u64 i;

	printf("seeds %llu  client ops %llu  messages %llu  events %llu  simulated %.1fs\n",
	       (unsigned long long)T.seeds, (unsigned long long)T.ops,
	       (unsigned long long)T.msgs, (unsigned long long)T.events,
	       T.sim_ns / 1e9);
	printf("faults:");
	for (i = 0; i < F__N; i++)
		printf(" %s %llu%s", fault_name[i], (unsigned long long)T.faults[i],
		       i + 1 < F__N ? "," : "\n");
	printf("max request latency after faults stopped %.3fs\n",
	       T.max_latency / 1e9);
	printf("parameter sets: default %llu, fast %llu, 7 nodes %llu, small tables %llu, slow network %llu; edge (clocks and delays at the bounds) %llu; leader stickiness %llu\n",
	       (unsigned long long)T.sets[0], (unsigned long long)T.sets[1],
	       (unsigned long long)T.sets[2], (unsigned long long)T.sets[3],
	       (unsigned long long)T.sets[4], (unsigned long long)T.edge,
	       (unsigned long long)T.sticky);
	printf("answers checked against the specification %llu, new leaders checked for completeness %llu, committed entries the checker missed %llu\n",
	       (unsigned long long)ck_answers_checked,
	       (unsigned long long)CK.elections,
	       (unsigned long long)CK.rec_holes);
	printf("smallest lease margin: EXPIRE %.3f ms (%llu), SESSION_END %.3f ms (%llu); TTLs above the cap refused %llu; leases checked for stranding %llu\n",
	       T.margins[0] ? T.min_margin[0] / 1e6 : 0.0,
	       (unsigned long long)T.margins[0],
	       T.margins[1] ? T.min_margin[1] / 1e6 : 0.0,
	       (unsigned long long)T.margins[1],
	       (unsigned long long)T.refused_ttl,
	       (unsigned long long)T.strand_checked);
	printf("idempotence table: clients forgotten and renumbered %llu (in doubt after a snapshot %llu), new clients refused for want of a free slot %llu\n",
	       (unsigned long long)T.forgotten,
	       (unsigned long long)T.forgotten_doubt,
	       (unsigned long long)T.no_room);
	if (use_table) {
		printf("holders' nodes' bounds: smallest EXPIRE margin after one %.3f ms (%llu)\n",
		       T.margins[2] ? T.min_margin[2] / 1e6 : 0.0,
		       (unsigned long long)T.margins[2]);
		printf("table: commands of ended clients refused %llu (node applies); table answers checked against the table specification %llu, wait answers %llu\n",
		       (unsigned long long)tablesim_ended_refused,
		       (unsigned long long)ck_table_checked,
		       (unsigned long long)ck_table_waits);
		printf("table commands sent: acquire %llu (try %llu, blocking %llu, reentrant %llu, shared %llu, semaphore %llu, detached %llu, no TTL %llu), release %llu, renew %llu, set-value %llu, cancel %llu, break %llu, client end %llu (reconnects %llu)\n",
		       (unsigned long long)T.top[REPL_OP_ACQUIRE],
		       (unsigned long long)T.try_acq,
		       (unsigned long long)T.wait_acq,
		       (unsigned long long)T.reentrant,
		       (unsigned long long)T.shared_acq,
		       (unsigned long long)T.sem_acq,
		       (unsigned long long)T.detached_acq,
		       (unsigned long long)T.nottl_acq,
		       (unsigned long long)T.top[REPL_OP_RELEASE],
		       (unsigned long long)T.top[REPL_OP_RENEW],
		       (unsigned long long)T.top[REPL_OP_SET_VALUE],
		       (unsigned long long)T.top[REPL_OP_CANCEL],
		       (unsigned long long)T.top[REPL_OP_BREAK],
		       (unsigned long long)T.ended_sent,
		       (unsigned long long)T.reconnects);
		printf("clients that died with their node (their sessions ended by its next NODE_START) %llu\n",
		       (unsigned long long)T.died_with_node);
		printf("seeds whose specification stopped at an index the checker never saw (breaks told to clients by the table from there) %llu\n",
		       (unsigned long long)T.spec_gaps);
		printf("queued acquires %llu: answered to their clients granted %llu, timed out %llu; settled from the table %llu (a snapshot or SESSION_END ended them unseen, or a stale QUEUED answer); cancelled %llu; leases broken %llu\n",
		       (unsigned long long)T.queued,
		       (unsigned long long)T.granted,
		       (unsigned long long)T.timedout,
		       (unsigned long long)T.wait_settled,
		       (unsigned long long)T.cancelled,
		       (unsigned long long)T.broken);
		printf("waits refused as closing a cycle (-EDEADLK, by the specification) %llu\n",
		       (unsigned long long)tspec_deadlocks);
	}
	for (i = 0; i < MAX_NODES; i++)	/* the last seed's nodes */
		if (S.node[i].r)
			snap_tally(S.node[i].r);
	printf("snapshots: serialized to send %llu, chunks sent %llu, installed %llu\n",
	       (unsigned long long)T.snap_built,
	       (unsigned long long)T.snap_chunks,
	       (unsigned long long)T.snap_installed);
}
