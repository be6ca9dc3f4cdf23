# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks of the caller's arguments, done before anything reaches libdlock
so that a mistake gets a message naming it (libdlock itself refuses a bad
name with a bare EINVAL, no reason).  Needs neither libdlock nor the
kernel module."""
import errno

from . import _lib
from .duration import to_ms
from .errors import InvalidArgument
from .info import MODES, to_bytes

U64_MAX = (1 << 64) - 1


def bad(msg, name=None):
    return InvalidArgument(errno.EINVAL, msg, name)


def name_bytes(name, what="lock name"):
    raw = to_bytes(name, what)
    if not 1 <= len(raw) <= _lib.NAME_MAX:
        raise bad(f"{what} must be 1 to {_lib.NAME_MAX} bytes, not "
                  f"{len(raw)}", name if len(raw) <= 80 else None)
    if b"\0" in raw:
        # libdlock passes names as C strings: a NUL would cut it short.
        raise bad(f"{what} contains a NUL byte", name)
    return raw


def prefix_bytes(prefix):
    if prefix is None or prefix in ("", b""):
        return None
    raw = to_bytes(prefix, "prefix")
    if len(raw) > _lib.NAME_MAX or b"\0" in raw:
        raise bad(f"prefix must be at most {_lib.NAME_MAX} bytes, "
                  "without NUL")
    return raw


def owner_bytes(owner):
    if owner is None:
        return None
    raw = to_bytes(owner, "owner")
    if not 1 <= len(raw) <= _lib.OWNER_MAX or b"\0" in raw:
        raise bad(f"owner string must be 1 to {_lib.OWNER_MAX} bytes, "
                  "without NUL")
    return raw


def value_bytes(value, name=None):
    raw = b"" if value is None else to_bytes(value, "value")
    if len(raw) > _lib.VALUE_MAX:
        raise bad(f"value is longer than {_lib.VALUE_MAX} bytes "
                  f"({len(raw)})", name)
    return raw


def check_tag(tag, owner=None):
    if isinstance(tag, bool) or not isinstance(tag, int):
        raise TypeError(f"tag must be an int, not {type(tag).__name__}")
    if not 0 <= tag <= U64_MAX:
        raise bad(f"tag must be 0 to 2**64-1, not {tag}")
    if tag and owner is not None:
        raise bad("a detached lease is owned by its owner string, not a tag")
    return tag


def duration_ms(value, what, name=None):
    try:
        return to_ms(value, what)
    except ValueError as e:
        raise bad(str(e), name) from None


def u32(value, what, name=None, low=0):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not low <= value <= _lib.U32_MAX:
        raise bad(f"{what} must be {low} to {_lib.U32_MAX}, not {value}", name)
    return value


def acquire_opts(name, ttl=None, mode="exclusive", permits=None,
                 blocking=True, timeout=None, owner=None, tag=0,
                 keepalive=False):
    """(name as bytes, struct dlock_acquire_opts, owner bytes to keep alive
    while the struct points at them) for one acquire."""
    raw = name_bytes(name)
    opts = _lib.AcquireOpts()
    if mode not in MODES:
        raise bad(f"mode must be 'exclusive', 'shared' or 'semaphore', "
                  f"not {mode!r}", name)
    opts.mode = MODES[mode]
    if mode == "semaphore":
        if permits is None:
            raise bad("a semaphore needs its number of permits", name)
        opts.permits = u32(permits, "permits", name, low=1)
    elif permits is not None:
        raise bad("permits apply to semaphores only", name)
    own = owner_bytes(owner)
    opts.tag = check_tag(tag, owner)
    if own is not None:
        if ttl is None:
            raise bad("a detached lease (owner=) needs a TTL", name)
        opts.flags |= _lib.F_DETACHED
        opts.owner = own
    if keepalive:
        if ttl is None:
            raise bad("keepalive renews a TTL: give ttl=", name)
        opts.flags |= _lib.F_KEEPALIVE
    if ttl is None:
        opts.flags |= _lib.F_NO_TTL
    else:
        opts.ttl_ms = duration_ms(ttl, "ttl", name)
    if not blocking:
        if timeout is not None:
            raise bad("a try-lock does not wait: give blocking=False or "
                      "timeout=, not both", name)
        opts.flags |= _lib.F_TRY
    elif timeout is not None:
        opts.wait_ms = duration_ms(timeout, "timeout", name)
    return raw, opts, own
