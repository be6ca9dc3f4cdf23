# SPDX-License-Identifier: LGPL-2.1-or-later
"""What dlock reports (status, config, locks, events) as plain Python
objects, converted from libdlock's structures, and the byte-string rules.

Names, owners and values are byte strings to dlock.  The binding takes str
(encoded UTF-8) or bytes, and gives names and owners back as str decoded
with surrogateescape (bytes that are not UTF-8 survive a round trip, as in
os.fsdecode) and values as bytes.
"""
import ctypes
from dataclasses import dataclass, field
from typing import List, Optional, Union

from . import _lib

MODES = {"exclusive": _lib.MODE_EXCLUSIVE, "shared": _lib.MODE_SHARED,
         "semaphore": _lib.MODE_SEMAPHORE}
MODE_NAMES = {v: k for k, v in MODES.items()}
EVENT_NAMES = {_lib.EV_GRANTED: "granted", _lib.EV_RELEASED: "released",
               _lib.EV_EXPIRED: "expired", _lib.EV_OWNER_DIED: "owner_died",
               _lib.EV_BROKEN: "broken", _lib.EV_VALUE: "value"}
LOST_NAMES = {_lib.LOST_EXPIRED: "expired", _lib.LOST_BROKEN: "broken"}

BytesLike = Union[str, bytes]


def to_bytes(value, what):
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def to_str(raw):
    return raw.decode("utf-8", "surrogateescape")


def _mode(m):
    return MODE_NAMES.get(m, str(m))


def _remaining(ms):
    return None if ms < 0 else ms / 1000


@dataclass
class Status:
    version: str
    leases: int
    waiters: int
    requests: int
    netns_cookie: int
    memory: int     # bytes of kernel memory the namespace's table holds
    # None from a module too old to say: names with a holder or waiter, and
    # the outcome counters (grants, releases, owner_died, expired, breaks,
    # waits, wait_timeouts, deadlocks).
    locks: Optional[int] = None
    counters: Optional[dict] = None

    @classmethod
    def from_c(cls, st):
        locks = counters = None
        if st.has_counters:
            locks = st.locks
            counters = {f: getattr(st.counters, f) for f in _lib.COUNTERS}
        return cls(st.version.decode(), st.leases, st.waiters, st.requests,
                   st.netns_cookie, st.memory, locks, counters)


# Per-uid limits may be "auto": a share of the namespace's limit.
USER_LIMITS = ("max_user_leases", "max_user_waiters", "max_user_value_bytes")


@dataclass
class Config:
    """A namespace's limits; 0 means none.  max_ttl is in seconds."""
    max_ttl: float
    max_leases: int
    max_waiters: int
    max_socket_leases: int
    max_socket_waiters: int
    max_user_leases: Union[int, str]
    max_user_waiters: Union[int, str]
    max_user_value_bytes: Union[int, str]
    user_leases: int        # the per-uid limits in force now
    user_waiters: int
    user_value_bytes: int

    @classmethod
    def from_c(cls, c):
        def auto(v):
            return "auto" if v == _lib.USER_LIMIT_AUTO else v
        return cls(c.max_ttl_ms / 1000, c.max_leases, c.max_waiters,
                   c.max_socket_leases, c.max_socket_waiters,
                   auto(c.max_user_leases), auto(c.max_user_waiters),
                   auto(c.max_user_value_bytes), c.user_leases,
                   c.user_waiters, c.user_value_bytes)


@dataclass
class Entry:
    """A holder or waiter.  hidden: another user's entry seen without
    CAP_NET_ADMIN (only mode, token, count, remaining and uid are set)."""
    mode: str
    token: int
    count: int
    cookie: int
    session: int
    tag: int
    owner: Optional[str]
    pid: int
    uid: int
    comm: str
    remaining: Optional[float]   # seconds until expiry / wait timeout
    value: Optional[bytes]
    hidden: bool

    @classmethod
    def from_c(cls, e):
        owner = to_str(bytes(e.owner)[:e.owner_len]) if e.owner_len else None
        value = ctypes.string_at(e.value, e.value_len) if e.value else None
        return cls(_mode(e.mode), e.token, e.count, e.cookie, e.session,
                   e.tag, owner, e.pid, e.uid, to_str(e.comm),
                   _remaining(e.remaining_ms), value, bool(e.hidden))


@dataclass
class LockInfo:
    name: str
    mode: str
    permits: Optional[int]
    holders: List[Entry] = field(default_factory=list)
    waiters: List[Entry] = field(default_factory=list)
    truncated: bool = False     # list() only: more entries than one message

    @classmethod
    def from_c(cls, i):
        return cls(to_str(bytes(i.name)[:i.name_len]), _mode(i.mode),
                   i.permits if i.mode == _lib.MODE_SEMAPHORE else None,
                   [Entry.from_c(i.holders[k]) for k in range(i.n_holders)],
                   [Entry.from_c(i.waiters[k]) for k in range(i.n_waiters)],
                   bool(i.truncated))


@dataclass
class Event:
    """A watched lock event.  type: "granted", "released", "expired",
    "owner_died", "broken", "value" (the holder set its value, which the
    event does not carry), or "overflow" (the kernel dropped events for
    this watcher: state may have changed unseen; every other field is then
    empty).  hidden: the watcher lacks CAP_NET_ADMIN, so no owner."""
    type: str
    name: Optional[str] = None
    mode: Optional[str] = None
    token: int = 0
    session: int = 0
    tag: int = 0
    owner: Optional[str] = None
    uid: int = 0
    hidden: bool = False

    @classmethod
    def from_c(cls, ev):
        owner = (to_str(ctypes.string_at(ev.owner, ev.owner_len))
                 if ev.owner else None)
        return cls(EVENT_NAMES.get(ev.type, str(ev.type)),
                   to_str(ctypes.string_at(ev.name, ev.name_len)),
                   _mode(ev.mode), ev.token, ev.session, ev.tag, owner,
                   ev.uid, bool(ev.hidden))


@dataclass
class Lost:
    """A socket-bound lease of the client ended without being released."""
    name: str
    tag: int
    token: int
    reason: str     # "expired" or "broken"

    @classmethod
    def from_c(cls, lost):
        return cls(to_str(lost.name), lost.tag, lost.token,
                   LOST_NAMES.get(lost.reason, str(lost.reason)))
