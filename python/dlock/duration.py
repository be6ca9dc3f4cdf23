# SPDX-License-Identifier: LGPL-2.1-or-later
"""Durations as dlockctl reads them: a bare number is seconds (as in
flock(1), timeout(1) and etcdctl); strings may carry a unit (ms, s, m, h)
and fractions ("1.5s", "250ms").  libdlock counts whole milliseconds."""
import datetime
import math
import re
from fractions import Fraction

U32_MAX = 0xFFFFFFFF

_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, None: 1000}
_SYNTAX = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*\Z")


def to_ms(value, what="duration"):
    """Milliseconds (1 .. 2**32-1) for @value: seconds as an int or float,
    a datetime.timedelta, or a string such as "30", "1.5s", "500ms", "10m".
    A positive duration below a millisecond rounds up to 1 ms rather than to
    0, which libdlock would read as "none".  Raises TypeError or ValueError
    naming @what."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number of seconds or a string "
                        f"such as '1.5s', not {value!r}")
    if isinstance(value, datetime.timedelta):
        ms = Fraction(value // datetime.timedelta(microseconds=1), 1000)
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{what} must be finite, not {value!r}")
        # Through repr: 4294967.295 means what it says, not the binary
        # float just above it (a Config's max_ttl must read back as is).
        ms = Fraction(repr(value) if isinstance(value, float) else value)
        ms *= 1000
    elif isinstance(value, str):
        m = _SYNTAX.match(value)
        if not m:
            raise ValueError(f"{what} {value!r} is not a duration (a number "
                             "of seconds, or with a unit: ms, s, m, h)")
        ms = Fraction(m.group(1)) * _UNIT_MS[m.group(2)]
    else:
        raise TypeError(f"{what} must be a number of seconds or a string "
                        f"such as '1.5s', not {type(value).__name__}")
    if ms <= 0:
        raise ValueError(f"{what} must be above zero, not {value!r}")
    ms = math.ceil(ms)
    if ms > U32_MAX:
        raise ValueError(f"{what} {value!r} is longer than {U32_MAX} ms "
                         "(about 49.7 days)")
    return ms
