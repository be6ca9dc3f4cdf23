# SPDX-License-Identifier: LGPL-2.1-or-later
"""ctypes mirror of libdlock's ABI (dlock.h, soname libdlock.so.1).

The structures below must match dlock.h byte for byte; the host test
tests/host/test_python.py compares them with the C compiler's layout, so a
change to dlock.h that is not copied here fails `make check-host`.
"""
import ctypes
import errno
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_int,
                    c_int64, c_size_t, c_ubyte, c_uint, c_uint32, c_uint64,
                    c_void_p)

# The ABI these layouts describe: a new soname means new layouts.
SONAME = "libdlock.so.1"

NAME_MAX = 255
OWNER_MAX = 64
VALUE_MAX = 1024
USER_LIMIT_AUTO = 0xFFFFFFFF
U32_MAX = 0xFFFFFFFF

MODE_EXCLUSIVE, MODE_SHARED, MODE_SEMAPHORE = 0, 1, 2
F_TRY, F_DETACHED, F_NO_TTL = 1 << 0, 1 << 1, 1 << 2
# The library's own: renew at a third of the TTL; keep waiting after a signal.
F_KEEPALIVE, F_RESTART = 1 << 24, 1 << 25

EV_GRANTED, EV_RELEASED, EV_EXPIRED, EV_OWNER_DIED, EV_BROKEN = 1, 2, 3, 4, 5
EV_VALUE = 6
LOST_EXPIRED, LOST_BROKEN, LOST_IN_DOUBT = 1, 2, 3

# dlock_set_config() bits, in struct dlock_config's field order.
CFG_FIELDS = ("max_ttl_ms", "max_leases", "max_waiters", "max_socket_leases",
              "max_socket_waiters", "max_user_leases", "max_user_waiters",
              "max_user_value_bytes")

c_enum = c_int  # gcc gives these enums int's size on every Linux ABI


COUNTERS = ("grants", "releases", "owner_died", "expired", "breaks", "waits",
            "wait_timeouts", "deadlocks")


class Counters(Structure):
    _fields_ = [(f, c_uint64) for f in COUNTERS]


class Status(Structure):
    _fields_ = [("version", c_char * 32), ("leases", c_uint64),
                ("waiters", c_uint64), ("requests", c_uint64),
                ("netns_cookie", c_uint64), ("memory", c_uint64),
                ("has_counters", c_int), ("locks", c_uint64),
                ("counters", Counters)]


class Config(Structure):
    _fields_ = [(f, c_uint32) for f in CFG_FIELDS] + \
               [("user_leases", c_uint32), ("user_waiters", c_uint32),
                ("user_value_bytes", c_uint32)]


class AcquireOpts(Structure):
    _fields_ = [("mode", c_enum), ("permits", c_uint32), ("ttl_ms", c_uint32),
                ("flags", c_uint32), ("wait_ms", c_uint32), ("tag", c_uint64),
                ("owner", c_char_p)]


class Lease(Structure):
    _fields_ = [("token", c_uint64), ("count", c_uint32), ("ttl_ms", c_uint32)]


class Owner(Structure):
    _fields_ = [("str", c_char_p), ("tag", c_uint64)]


# Byte arrays, not c_char: owners and names may hold NUL bytes, and c_char
# arrays read as bytes stop at the first one.
class Entry(Structure):
    _fields_ = [("mode", c_enum), ("token", c_uint64), ("count", c_uint32),
                ("cookie", c_uint64), ("session", c_uint64), ("tag", c_uint64),
                ("owner", c_ubyte * (OWNER_MAX + 1)), ("pid", c_uint32),
                ("uid", c_uint32), ("comm", c_char * 16),
                ("remaining_ms", c_int64), ("value", c_void_p),
                ("value_len", c_size_t), ("owner_len", c_size_t),
                ("hidden", c_int)]


class LockInfo(Structure):
    _fields_ = [("name", c_ubyte * (NAME_MAX + 1)), ("name_len", c_size_t),
                ("mode", c_enum), ("permits", c_uint32),
                ("n_holders", c_size_t), ("n_waiters", c_size_t),
                ("holders", POINTER(Entry)), ("waiters", POINTER(Entry)),
                ("truncated", c_int)]


class Event(Structure):
    _fields_ = [("type", c_enum), ("name", c_void_p), ("name_len", c_size_t),
                ("mode", c_enum), ("token", c_uint64), ("session", c_uint64),
                ("tag", c_uint64), ("owner", c_void_p), ("owner_len", c_size_t),
                ("uid", c_uint32), ("hidden", c_int)]


class Lost(Structure):
    _fields_ = [("name", c_char_p), ("tag", c_uint64), ("token", c_uint64),
                ("reason", c_enum)]


# Cluster configuration and state (dlock_get_cluster(3), LIBDLOCK_1.1).
CLUSTER_ID_MAX, CLUSTER_NODES_MAX = 255, 7
ROLE_NONE, ROLE_RECOVERING, ROLE_FOLLOWER, ROLE_CANDIDATE, ROLE_LEADER = \
    0, 1, 2, 3, 4
AF_UNSPEC, AF_INET, AF_INET6 = 0, 2, 10     # Linux's, as dlock.h uses them


class ClusterAddr(Structure):
    _fields_ = [("family", c_int), ("port", ctypes.c_uint16),
                ("addr", c_ubyte * 16)]


class ClusterPeer(Structure):
    _fields_ = [("id", c_uint32), ("endpoint", ClusterAddr),
                ("last_contact_ms", c_int64), ("lag", c_int64),
                ("tx", c_uint64), ("rx", c_uint64), ("dropped", c_uint64)]


class Cluster(Structure):
    _fields_ = [("id", c_uint32), ("listen", ClusterAddr),
                ("n_peers", c_size_t), ("peers", POINTER(ClusterPeer)),
                ("role", c_enum), ("leader", c_uint32), ("term", c_uint64),
                ("commit", c_uint64), ("stray", c_uint64)]


LIST_CB = CFUNCTYPE(c_int, POINTER(LockInfo), c_void_p)
EVENT_CB = CFUNCTYPE(None, c_void_p, POINTER(Event), c_void_p)
LOST_CB = CFUNCTYPE(None, c_void_p, POINTER(Lost), c_void_p)
OVERFLOW_CB = CFUNCTYPE(None, c_void_p, c_void_p)

# name: (restype, argtypes)
_PROTOTYPES = {
    "dlock_open": (c_int, [POINTER(c_void_p)]),
    "dlock_close": (None, [c_void_p]),
    "dlock_forget": (None, [c_void_p]),
    "dlock_get_status": (c_int, [c_void_p, POINTER(Status)]),
    "dlock_get_config": (c_int, [c_void_p, POINTER(Config)]),
    "dlock_set_config": (c_int, [c_void_p, POINTER(Config), c_uint]),
    "dlock_acquire": (c_int, [c_void_p, c_char_p, POINTER(AcquireOpts),
                              POINTER(Lease)]),
    "dlock_release": (c_int, [c_void_p, c_char_p, POINTER(Owner)]),
    "dlock_renew": (c_int, [c_void_p, c_char_p, POINTER(Owner), c_uint32]),
    "dlock_set_value": (c_int, [c_void_p, c_char_p, POINTER(Owner),
                                c_char_p, c_size_t]),
    "dlock_break": (c_int, [c_void_p, c_char_p, c_uint64]),
    "dlock_get": (c_int, [c_void_p, c_char_p, POINTER(POINTER(LockInfo))]),
    "dlock_lock_info_free": (None, [POINTER(LockInfo)]),
    "dlock_list": (c_int, [c_void_p, c_char_p, LIST_CB, c_void_p]),
    "dlock_watch": (c_int, [c_void_p, c_char_p, EVENT_CB, c_void_p]),
    "dlock_on_lost": (None, [c_void_p, LOST_CB, c_void_p]),
    "dlock_on_overflow": (None, [c_void_p, OVERFLOW_CB, c_void_p]),
    "dlock_keepalive": (c_int, [c_void_p, c_char_p, POINTER(Owner),
                                c_uint32]),
    "dlock_keepalive_stop": (c_int, [c_void_p, c_char_p, POINTER(Owner)]),
    "dlock_keepalive_thread": (c_int, [c_void_p, c_int]),
    "dlock_next_timeout": (c_int, [c_void_p]),
    "dlock_fd": (c_int, [c_void_p]),
    "dlock_dispatch": (c_int, [c_void_p]),
    "dlock_strerror": (c_char_p, [c_void_p, c_int]),
    "dlock_version": (c_char_p, []),
}

# Added after libdlock 0.1.0 (LIBDLOCK_1.1): an older libdlock.so.1 lacks
# them, and only the calls that need them fail (require()).
_OPTIONAL = {
    "dlock_get_cluster": (c_int, [c_void_p, POINTER(POINTER(Cluster))]),
    "dlock_set_cluster": (c_int, [c_void_p, POINTER(Cluster)]),
    "dlock_cluster_free": (None, [POINTER(Cluster)]),
    # LIBDLOCK_1.3
    "dlock_set_linearizable": (None, [c_void_p, c_int]),
}
_VERSION_OF = {"dlock_set_linearizable": "LIBDLOCK_1.3"}

_lib = None


def get():
    """The loaded library (once per process).  DLOCK_LIBRARY names another
    file than the installed soname, e.g. build/libdlock.so.1 in the tree."""
    global _lib
    if _lib is None:
        path = os.environ.get("DLOCK_LIBRARY") or SONAME
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            # Imported late to keep this file free of the error classes.
            from .errors import Error
            raise Error(errno.ELIBACC,
                        f"cannot load {path} ({e}); install libdlock1 or "
                        "set DLOCK_LIBRARY to the library's path") from e
        for fn, (res, args) in _PROTOTYPES.items():
            f = getattr(lib, fn)
            f.restype, f.argtypes = res, args
        for fn, (res, args) in _OPTIONAL.items():
            if hasattr(lib, fn):
                f = getattr(lib, fn)
                f.restype, f.argtypes = res, args
        _lib = lib
    return _lib


def require(lib, fn):
    """@fn of @lib, or an Error saying the library is too old for it."""
    if not hasattr(lib, fn):
        from .errors import Error
        raise Error(errno.ENOSYS, f"{fn}() needs a newer libdlock.so.1 "
                    f"(symbol version {_VERSION_OF.get(fn, 'LIBDLOCK_1.1')})")
    return getattr(lib, fn)


def check_signals():
    """Runs Python's signal handlers now (a KeyboardInterrupt, say, is
    raised here): after a C call came back with EINTR they would otherwise
    wait for the next bytecode the interpreter happens to run."""
    ctypes.pythonapi.PyErr_CheckSignals()
