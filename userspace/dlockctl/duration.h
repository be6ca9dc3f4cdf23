/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Durations on dlockctl's command line.  A bare number is seconds, as in
 * flock(1), timeout(1) and etcdctl; a unit (ms, s, m, h) may follow, and
 * fractions are allowed as long as they come to whole milliseconds:
 * "30", "1.5s", "0.25", "250ms", "2m", "1h".
 */
#ifndef DLOCKCTL_DURATION_H
#define DLOCKCTL_DURATION_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses @s into milliseconds.  Returns 0, or a negative errno with *@why
 * set to the reason to show after the value: -EINVAL (not a duration, or
 * an unknown unit), -ERANGE (above UINT32_MAX ms), -EDOM (finer than a
 * millisecond).
 */
int duration_parse(const char *s, uint32_t *ms, const char **why);

/* Formats @ms the shortest exact way ("1500ms", "4s", "10m", "1h"). */
void duration_format(char *buf, size_t size, uint32_t ms);

#endif /* DLOCKCTL_DURATION_H */
