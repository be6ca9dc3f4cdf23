// SPDX-License-Identifier: GPL-2.0
/*
 * libdlock's leader election against the real module, in the guest:
 * dlock_campaign(), dlock_proclaim(), dlock_resign() and the observer.
 * Observers must hear of every value a leader publishes, including a new
 * value of the same leader and one set by plain dlock_set_value(): the
 * kernel's value event is all that tells them.  An election takes no lock
 * but its own name.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "dlock.h"

/* Long enough for a slow guest; a correct run never waits this long. */
#define NEXT_MS 20000

FIXTURE(elect) {
	struct dlock *a, *b, *obs;
	struct dlock_observer *o;
	char name[64];
};

FIXTURE_SETUP(elect)
{
	snprintf(self->name, sizeof(self->name), "elect-%d", getpid());
	ASSERT_EQ(0, dlock_open(&self->a));
	ASSERT_EQ(0, dlock_open(&self->b));
	ASSERT_EQ(0, dlock_open(&self->obs));
	ASSERT_EQ(0, dlock_observe(self->obs, self->name, &self->o));
}

FIXTURE_TEARDOWN(elect)
{
	dlock_observe_end(self->o);
	dlock_close(self->obs);
	dlock_close(self->a);
	dlock_close(self->b);
}

static bool is_value(const struct dlock_leader *l, const char *v)
{
	return l->present && !l->hidden && l->value_len == strlen(v) &&
	       !memcmp(l->value, v, l->value_len);
}

TEST_F(elect, observer_follows_campaign_proclaim_and_resign)
{
	struct dlock_campaign_opts try = { .flags = DLOCK_F_TRY };
	struct dlock_lease la, lb;
	struct dlock_leader l;

	/* The first report is the state now: nobody leads. */
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_EQ(0, l.present);
	EXPECT_EQ(0, dlock_observe_next(self->o, 0, &l));

	ASSERT_EQ(0, dlock_campaign(self->a, self->name, "a1", 2, NULL, &la));
	EXPECT_EQ(0, la.ttl_ms);		/* no TTL: leader while open */
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_TRUE(is_value(&l, "a1"));
	EXPECT_EQ(la.token, l.token);
	EXPECT_EQ((uint32_t)getpid(), l.pid);

	/* A new value of the same leader: no grant, only the value event. */
	ASSERT_EQ(0, dlock_proclaim(self->a, self->name, 0, "a2", 2));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_TRUE(is_value(&l, "a2"));
	EXPECT_EQ(la.token, l.token);

	/* The same value again is no change. */
	ASSERT_EQ(0, dlock_proclaim(self->a, self->name, 0, "a2", 2));
	EXPECT_EQ(0, dlock_observe_next(self->o, 500, &l));

	EXPECT_EQ(-EAGAIN, dlock_campaign(self->b, self->name, "b", 1, &try, &lb));
	EXPECT_EQ(-EPERM, dlock_proclaim(self->b, self->name, 0, "b", 1));
	EXPECT_EQ(-EPERM, dlock_resign(self->b, self->name, 0));

	ASSERT_EQ(0, dlock_resign(self->a, self->name, 0));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_EQ(0, l.present);

	ASSERT_EQ(0, dlock_campaign(self->b, self->name, "b", 1, &try, &lb));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_TRUE(is_value(&l, "b"));
	EXPECT_LT(la.token, l.token);

	/* Closing the leader's handle ends leadership. */
	dlock_close(self->b);
	self->b = NULL;
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_EQ(0, l.present);
}

TEST_F(elect, granted_before_published_is_not_reported)
{
	struct dlock_acquire_opts o = { .flags = DLOCK_F_NO_TTL };
	struct dlock_lease lease;
	struct dlock_leader l;

	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	/* A holder that has published nothing is not a leader yet. */
	ASSERT_EQ(0, dlock_acquire(self->a, self->name, &o, &lease));
	EXPECT_EQ(0, dlock_observe_next(self->o, 500, &l));
	ASSERT_EQ(0, dlock_proclaim(self->a, self->name, 0, "late", 4));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_TRUE(is_value(&l, "late"));
	ASSERT_LE(0, dlock_release(self->a, self->name, NULL));
}

static int count_lock(const struct dlock_lock_info *info, void *arg)
{
	(*(int *)arg)++;
	(void)info;
	return 0;
}

/* Events a watch of the prefix NAME heard: of NAME, of any other name. */
struct heard {
	size_t len;
	int own, other;
};

static void hear(struct dlock *d, const struct dlock_event *ev, void *arg)
{
	struct heard *h = arg;

	(void)d;
	if (ev->name_len == h->len)
		h->own++;
	else
		h->other++;
}

/*
 * Anyone's dlock_set_value() is seen, and the election's locks are its
 * name alone, even at the longest name the kernel takes.
 */
TEST_F(elect, plain_set_value_is_seen_and_no_other_lock_is_taken)
{
	char longname[DLOCK_NAME_MAX + 1];
	struct heard h = { .len = strlen(self->name) };
	struct dlock_observer *o;
	struct dlock_lease lease;
	struct dlock_leader l;
	struct dlock *w;
	int n = 0;

	/* Even a lock taken and dropped at once (a "pulse") would be heard. */
	ASSERT_EQ(0, dlock_open(&w));
	ASSERT_EQ(0, dlock_watch(w, self->name, hear, &h));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	ASSERT_EQ(0, dlock_campaign(self->a, self->name, "c1", 2, NULL, &lease));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_TRUE(is_value(&l, "c1"));
	/* The prefix is the name: NAME~ or any helper lock would show. */
	ASSERT_EQ(1, dlock_list(self->b, self->name, count_lock, &n));
	EXPECT_EQ(1, n);
	ASSERT_EQ(0, dlock_set_value(self->a, self->name, NULL, "c2", 2));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_TRUE(is_value(&l, "c2"));
	EXPECT_EQ(lease.token, l.token);
	ASSERT_EQ(0, dlock_resign(self->a, self->name, 0));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_EQ(0, l.present);
	/* Multicast reached w no later than the observer: all is queued. */
	ASSERT_LE(0, dlock_dispatch(w));
	EXPECT_EQ(4, h.own);	/* granted, value, value, released */
	EXPECT_EQ(0, h.other);
	dlock_close(w);

	memset(longname, 'e', DLOCK_NAME_MAX);
	longname[DLOCK_NAME_MAX] = '\0';
	ASSERT_EQ(0, dlock_observe(self->b, longname, &o));
	ASSERT_EQ(1, dlock_observe_next(o, NEXT_MS, &l));
	EXPECT_EQ(0, l.present);
	ASSERT_EQ(0, dlock_campaign(self->a, longname, "long", 4, NULL, &lease));
	ASSERT_EQ(1, dlock_observe_next(o, NEXT_MS, &l));
	EXPECT_TRUE(is_value(&l, "long"));
	EXPECT_EQ(0, dlock_resign(self->a, longname, 0));
	dlock_observe_end(o);
}

TEST_F(elect, ttl_and_bad_arguments)
{
	struct dlock_campaign_opts opts = { .ttl_ms = 60000 };
	struct dlock_campaign_opts bad = { .flags = DLOCK_F_DETACHED };
	struct dlock_campaign_opts nottl = { .flags = DLOCK_F_KEEPALIVE };
	char big[DLOCK_VALUE_MAX + 1], longname[DLOCK_NAME_MAX + 2];
	struct dlock_lock_info *li;
	struct dlock_observer *o;
	struct dlock_lease lease;

	memset(big, 'v', sizeof(big));
	memset(longname, 'n', DLOCK_NAME_MAX + 1);
	longname[DLOCK_NAME_MAX + 1] = '\0';
	EXPECT_EQ(-EINVAL, dlock_campaign(self->a, self->name, "", 0, NULL, &lease));
	EXPECT_EQ(-EINVAL, dlock_campaign(self->a, self->name, NULL, 1, NULL, &lease));
	EXPECT_EQ(-EINVAL, dlock_campaign(self->a, self->name, big, sizeof(big),
					  NULL, &lease));
	EXPECT_EQ(-EINVAL, dlock_campaign(self->a, longname, "v", 1, NULL, &lease));
	EXPECT_EQ(-EINVAL, dlock_campaign(self->a, "", "v", 1, NULL, &lease));
	EXPECT_EQ(-EINVAL, dlock_campaign(self->a, self->name, "v", 1, &bad, &lease));
	EXPECT_EQ(-EINVAL, dlock_campaign(self->a, self->name, "v", 1, &nottl, &lease));
	EXPECT_EQ(-EINVAL, dlock_observe(self->b, longname, &o));
	/* Nothing was left held by the refusals. */
	EXPECT_EQ(-ENOENT, dlock_get(self->a, self->name, &li));

	ASSERT_EQ(0, dlock_campaign(self->a, self->name, "t", 1, &opts, &lease));
	EXPECT_EQ(60000, lease.ttl_ms);
	EXPECT_EQ(0, dlock_renew(self->a, self->name, NULL, lease.ttl_ms));
	EXPECT_EQ(0, dlock_resign(self->a, self->name, 0));
}

/* With DLOCK_F_KEEPALIVE the library renews: leadership outlives the TTL. */
TEST_F(elect, keepalive_outlives_the_ttl)
{
	struct dlock_campaign_opts opts = {
		.ttl_ms = 2000, .flags = DLOCK_F_KEEPALIVE,
	};
	struct dlock_lease lease;
	struct dlock_leader l;
	int i;

	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	ASSERT_EQ(0, dlock_keepalive_thread(self->a, 1));
	ASSERT_EQ(0, dlock_campaign(self->a, self->name, "k", 1, &opts, &lease));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_TRUE(is_value(&l, "k"));
	/* Three TTLs: any change (the lease expiring) would be reported. */
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, dlock_observe_next(self->o, 2000, &l));
	EXPECT_EQ(0, dlock_resign(self->a, self->name, 0));
	ASSERT_EQ(0, dlock_keepalive_thread(self->a, 0));
	ASSERT_EQ(1, dlock_observe_next(self->o, NEXT_MS, &l));
	EXPECT_EQ(0, l.present);
}

TEST_HARNESS_MAIN
