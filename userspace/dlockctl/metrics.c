// SPDX-License-Identifier: GPL-2.0
/*
 * The counters of a namespace as `status` shows them and as Prometheus
 * reads them.  One table drives all three forms, so a counter added to the
 * module shows up everywhere with one line here.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "metrics.h"

struct counter {
	const char *key;	/* status text and JSON */
	const char *metric;	/* Prometheus, without dlock_ and _total */
	const char *help;
	size_t off;		/* in struct dlock_counters */
};

#define C(key, metric, help, field) \
	{ key, metric, help, offsetof(struct dlock_counters, field) }

static const struct counter counters[] = {
	C("grants", "grants", "Leases granted, at once or to a waiter.", grants),
	C("releases", "releases", "Leases released by their owner.", releases),
	C("owner_died", "owner_deaths",
	  "Socket-bound leases ended because their socket closed.", owner_died),
	C("expired", "expiries", "Leases whose TTL ran out.", expired),
	C("breaks", "breaks", "Leases ended by break.", breaks),
	C("waits", "waits", "Acquires that joined a wait queue.", waits),
	C("wait_timeouts", "wait_timeouts",
	  "Queued acquires whose wait limit ran out.", wait_timeouts),
	C("deadlocks", "deadlocks",
	  "Acquires refused because they would deadlock.", deadlocks),
};

#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static uint64_t counter_value(const struct dlock_status *st, size_t i)
{
	return *(const uint64_t *)((const char *)&st->counters +
				   counters[i].off);
}

void metrics_status_text(FILE *f, const struct dlock_status *st)
{
	size_t i;

	if (!st->has_counters)
		return;
	fprintf(f, "locks: %" PRIu64 "\n", st->locks);
	for (i = 0; i < NCOUNTERS; i++)
		fprintf(f, "%s: %" PRIu64 "\n", counters[i].key,
			counter_value(st, i));
}

void metrics_status_json(FILE *f, const struct dlock_status *st)
{
	size_t i;

	if (!st->has_counters)
		return;
	fprintf(f, ",\"locks\":%" PRIu64 ",\"counters\":{", st->locks);
	for (i = 0; i < NCOUNTERS; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", counters[i].key,
			counter_value(st, i));
	fputc('}', f);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP dlock_%s %s\n# TYPE dlock_%s %s\n", name, help,
		name, type);
}

static void gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	family(f, name, "gauge", help);
	fprintf(f, "dlock_%s %" PRIu64 "\n", name, v);
}

/* A label value: backslash, double quote and newline are escaped. */
static void label_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

void metrics_prometheus(FILE *f, const struct dlock_status *st)
{
	size_t i;

	family(f, "info", "gauge", "The loaded dlock module; its version is a label.");
	fputs("dlock_info{version=\"", f);
	label_value(f, st->version);
	fputs("\"} 1\n", f);
	gauge(f, "leases", "Leases held now.", st->leases);
	gauge(f, "waiters", "Acquires queued now.", st->waiters);
	if (st->has_counters)
		gauge(f, "locks", "Lock names with a holder or a waiter now.",
		      st->locks);
	gauge(f, "memory_bytes", "Kernel memory the lock table holds.",
	      st->memory);
	family(f, "requests_total", "counter",
	       "Requests served since the namespace was created.");
	fprintf(f, "dlock_requests_total %" PRIu64 "\n", st->requests);
	for (i = 0; st->has_counters && i < NCOUNTERS; i++) {
		fprintf(f, "# HELP dlock_%s_total %s\n", counters[i].metric,
			counters[i].help);
		fprintf(f, "# TYPE dlock_%s_total counter\n",
			counters[i].metric);
		fprintf(f, "dlock_%s_total %" PRIu64 "\n", counters[i].metric,
			counter_value(st, i));
	}
}
