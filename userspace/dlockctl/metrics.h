/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dlockctl's output of a namespace's counters: the lines `status` adds,
 * and `metrics`, the Prometheus text exposition format (version 0.0.4)
 * for node_exporter's textfile collector.  dlockctl(8) lists the metrics.
 */
#ifndef DLOCKCTL_METRICS_H
#define DLOCKCTL_METRICS_H

#include <stdio.h>

#include "dlock.h"

/* `status`: "locks: N" and a line per counter (nothing from an old module). */
void metrics_status_text(FILE *f, const struct dlock_status *st);
/* `-j status`: ,"locks":N,"counters":{...} inside the status object. */
void metrics_status_json(FILE *f, const struct dlock_status *st);
/*
 * `metrics`: a HELP and a TYPE line and a sample per metric, all prefixed
 * dlock_; counters end in _total.  Without counters (an old module) only
 * the metrics it reports.
 */
void metrics_prometheus(FILE *f, const struct dlock_status *st);

#endif /* DLOCKCTL_METRICS_H */
