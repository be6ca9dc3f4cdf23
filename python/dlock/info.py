# SPDX-License-Identifier: LGPL-2.1-or-later
"""What dlock reports (status, config, locks, events) as plain Python
objects, converted from libdlock's structures, and the byte-string rules.

Names, owners and values are byte strings to dlock.  The binding takes str
(encoded UTF-8) or bytes, and gives names and owners back as str decoded
with surrogateescape (bytes that are not UTF-8 survive a round trip, as in
os.fsdecode) and values as bytes.
"""
import ctypes
import errno
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import List, Optional, Union

from . import _lib
from .errors import InvalidArgument

MODES = {"exclusive": _lib.MODE_EXCLUSIVE, "shared": _lib.MODE_SHARED,
         "semaphore": _lib.MODE_SEMAPHORE}
MODE_NAMES = {v: k for k, v in MODES.items()}
EVENT_NAMES = {_lib.EV_GRANTED: "granted", _lib.EV_RELEASED: "released",
               _lib.EV_EXPIRED: "expired", _lib.EV_OWNER_DIED: "owner_died",
               _lib.EV_BROKEN: "broken", _lib.EV_VALUE: "value"}
LOST_NAMES = {_lib.LOST_EXPIRED: "expired", _lib.LOST_BROKEN: "broken",
              _lib.LOST_IN_DOUBT: "in_doubt"}

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


def _bad(msg):
    return InvalidArgument(errno.EINVAL, msg)


ROLE_NAMES = {_lib.ROLE_NONE: "none", _lib.ROLE_RECOVERING: "recovering",
              _lib.ROLE_FOLLOWER: "follower",
              _lib.ROLE_CANDIDATE: "candidate", _lib.ROLE_LEADER: "leader"}


def _addr(a):
    """A struct dlock_cluster_addr's address as text, None for AF_UNSPEC."""
    # inet_ntop, as dlockctl: ipaddress prints ::ffff:10.0.0.3 otherwise
    # before Python 3.13.
    if a.family == _lib.AF_INET:
        return socket.inet_ntop(socket.AF_INET, bytes(a.addr[:4]))
    if a.family == _lib.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, bytes(a.addr))
    return None


def format_endpoint(a):
    """ADDR:PORT, [ADDR]:PORT for IPv6, as dlockctl prints it."""
    host = _addr(a)
    return f"[{host}]:{a.port}" if a.family == _lib.AF_INET6 else \
        f"{host}:{a.port}"


def parse_endpoint(text, what="endpoint"):
    """"10.0.0.2:7400" or "[fd00::2]:7400" into a _lib.ClusterAddr."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be str, not {type(text).__name__}")
    host, sep, port = text.rpartition(":")
    if not sep:
        raise _bad(f"{what} {text!r}: port missing")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if ":" not in host:
            raise _bad(f"{what} {text!r}: not an IPv6 address in "
                             "brackets")
    elif ":" in host:
        raise _bad(f"{what} {text!r}: an IPv6 address goes in "
                         "brackets: [ADDR]:PORT")
    a = _lib.ClusterAddr()
    set_addr(a, host, what)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise _bad(f"{what} {text!r}: {port!r} is not a port "
                         "(1..65535)")
    a.port = int(port)
    return a


def set_addr(a, host, what):
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise _bad(f"{what}: {host!r} is not an IPv4 or IPv6 address "
                         "(names are not resolved)") from None
    a.family = _lib.AF_INET6 if ip.version == 6 else _lib.AF_INET
    ctypes.memmove(a.addr, ip.packed, len(ip.packed))


@dataclass
class ClusterPeer:
    """Another node: its id, where it listens, and what this node saw of
    it.  last_contact: seconds since a datagram from it was accepted (None:
    never); lag: log entries it has yet to acknowledge (None: not known,
    this node is not the leader); tx, rx, dropped: datagrams."""
    id: int
    endpoint: str
    last_contact: Optional[float] = None
    lag: Optional[int] = None
    tx: int = 0
    rx: int = 0
    dropped: int = 0

    @classmethod
    def from_c(cls, p):
        return cls(p.id, format_endpoint(p.endpoint),
                   None if p.last_contact_ms < 0 else p.last_contact_ms / 1000,
                   None if p.lag < 0 else p.lag, p.tx, p.rx, p.dropped)


@dataclass
class Cluster:
    """The namespace as a node of a cluster.  id 0 and role "none": not in
    one.  role: "none", "recovering", "follower", "candidate", "leader";
    leader: its id (None: none known); listen_address None: every
    address; stray: datagrams from no peer's address, dropped."""
    id: int
    role: str
    leader: Optional[int] = None
    term: int = 0
    commit: int = 0
    listen_port: int = 0
    listen_address: Optional[str] = None
    peers: List[ClusterPeer] = field(default_factory=list)
    stray: int = 0

    @classmethod
    def from_c(cls, c):
        return cls(c.id, ROLE_NAMES.get(c.role, str(c.role)),
                   c.leader or None, c.term, c.commit, c.listen.port,
                   _addr(c.listen),
                   [ClusterPeer.from_c(c.peers[i]) for i in range(c.n_peers)],
                   c.stray)
