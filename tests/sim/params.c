// SPDX-License-Identifier: GPL-2.0
/* Per-seed parameters of the simulator, see params.h. */
#include "params.h"

#define MS	1000000ULL

/* Own random stream, so that a seed run with the default set (-p 0) is the
 * same run as before parameter sets existed (regression seeds). */
static u64 prng(u64 *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

void sim_params_pick(struct sim_params *p, u64 seed, int force)
{
	u64 x = seed * 0xd1342543de82ef95ULL + 777, r;

	prng(&x);
	r = prng(&x) % 100;
	if (force == 0)
		r = 100;
	*p = (struct sim_params){ "default", 0, 0, 256, 64,
		20 * MS, 100 * MS, 200 * MS, 800 * MS, 500 * MS, 200 * MS,
		false, false, false, false, false, false };
	if (r < 15) {
		/* faster timing: shorter leases and sessions, tighter slack */
		p->name = "fast";
		p->set = 1;
		p->hb = 10 * MS;
		p->elect_min = 60 * MS;
		p->elect_max = 120 * MS;
		p->max_ttl = 300 * MS;
		p->session = 250 * MS;
		p->msg_life = 100 * MS;
	} else if (r < 30) {
		p->name = "7 nodes";
		p->set = 2;
		p->n = 7;
	} else if (r < 45) {
		/* more clients over a run than idempotence slots, small log:
		 * evictions and snapshots all the time */
		p->name = "small tables";
		p->set = 3;
		p->log_cap = 64;
		p->max_clients = 0;	/* set from the client count */
	} else if (r < 55) {
		/* messages live long next to elections: a stale answer can
		 * reach a node that lost and won leadership since it was sent */
		p->name = "slow network";
		p->set = 4;
		p->msg_life = 450 * MS;
	}
	if (force == 0)
		return;
	p->edge = prng(&x) % 100 < 40;
	p->over_cap = prng(&x) % 100 < 30;
	p->f_down = p->edge && prng(&x) % 2;
	p->hit_leader = p->edge;
	/* new leaders cut off at once: old-term tails, stale answers */
	p->churn = p->edge && prng(&x) % 2;
	/* election timeouts near their minimum: sessions at their edge */
	if (p->edge && prng(&x) % 2)
		p->elect_max = p->elect_min + p->hb / 2;
	p->sticky = prng(&x) % 2;
}
