/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-seed protocol parameters and fault style of the simulator: several
 * parameter sets (cluster size up to 7, timing, idempotence slots fewer
 * than the clients a run sees, small logs) and an "edge" style that drives
 * clocks and delays to the bounds the protocol assumes.
 */
#ifndef DLOCK_SIM_PARAMS_H
#define DLOCK_SIM_PARAMS_H

#include "compat.h"

struct sim_params {
	const char *name;
	int set;
	int n;			/* nodes: 0 = 3 or 5 */
	u32 log_cap;
	u32 max_clients;	/* idempotence slots; 0: the clients alive + 2 */
	u64 hb, elect_min, elect_max, max_ttl, session, msg_life;
	/* edge style */
	bool edge;		/* drift at the bound, delays from ~0 to msg_life */
	bool over_cap;		/* some TTLs above max_ttl (must be refused) */
	bool f_down;		/* crashes take exactly f nodes down */
	bool hit_leader;	/* partitions cut the leader off */
	bool churn;		/* a new leader is often cut off at once */
	bool sticky;		/* repl_cfg.sticky, as the kernel runs */
};

#define SIM_PARAM_SETS	5
/* force: -1 pick by seed; 0 the default set, no edge (regression seeds) */
void sim_params_pick(struct sim_params *p, u64 seed, int force);

#endif /* DLOCK_SIM_PARAMS_H */
