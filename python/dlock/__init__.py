# SPDX-License-Identifier: LGPL-2.1-or-later
"""dlock: Python binding of libdlock, the client of the dlock kernel lock
service.

    import dlock

    with dlock.lock("nightly-backup", ttl=30) as lease:
        print("fencing token", lease.token)

The module-level functions use a default Client per thread (opened on first
use); a Client of your own (dlock.Client()) gives control over when the
handle, and with it every socket-bound lease it holds, is closed.  See
Client.lock() for the options and python/README.md for a tour.

blocking=False raises WouldBlock when the lock is held (it does not return
None, so that `with dlock.lock(..., blocking=False)` stays correct).
"""
import os
import threading

from . import args as _args
from .client import Client, version
from .duration import to_ms
from .errors import (Deadlock, Error, Interrupted, InvalidArgument,
                     LeaseReleased, LimitExceeded, NotFound, NotLoaded,
                     PermissionDenied, Timeout, WouldBlock)
from .info import (Cluster, ClusterPeer, Config, Entry, Event, LockInfo, Lost,
                   Status)
from .lease import Lease
from .watch import Watcher

__version__ = "0.1.0"

_local = threading.local()


def default_client():
    """This thread's default Client, opened on first use (and again in a
    forked child, which must not use its parent's)."""
    c = getattr(_local, "client", None)
    if c is None or c.closed or c._pid != os.getpid():
        c = _local.client = Client()
    return c


def lock(name, ttl=None, *, mode="exclusive", permits=None, blocking=True,
         timeout=None, owner=None, tag=0, keepalive=False):
    """Take a lease on @name with this thread's default Client; see
    Client.lock()."""
    # Checked before the Client opens: a bad call fails the same way with
    # or without the kernel module.
    _args.acquire_opts(name, ttl, mode, permits, blocking, timeout, owner,
                       tag, keepalive)
    return default_client().lock(name, ttl, mode=mode, permits=permits,
                                 blocking=blocking, timeout=timeout,
                                 owner=owner, tag=tag, keepalive=keepalive)


def semaphore(name, permits, ttl=None, **kw):
    """lock(name, ttl, mode="semaphore", permits=permits, ...)."""
    return lock(name, ttl, mode="semaphore", permits=permits, **kw)


def release(name, *, owner=None, tag=0):
    return default_client().release(name, owner=owner, tag=tag)


def renew(name, ttl, *, owner=None, tag=0):
    return default_client().renew(name, ttl, owner=owner, tag=tag)


def set_value(name, value, *, owner=None, tag=0):
    return default_client().set_value(name, value, owner=owner, tag=tag)


def break_lock(name, token=0):
    return default_client().break_lock(name, token)


def get(name, linearizable=False):
    return default_client().get(name, linearizable)


def list(prefix=None, linearizable=False):  # noqa: A001 - mirrors dlockctl
    return default_client().list(prefix, linearizable)


def status():
    return default_client().status()


def config():
    return default_client().config()


def set_config(**limits):
    return default_client().set_config(**limits)


def watch(prefix=None):
    return Watcher(prefix)


for _f in (release, renew, set_value, break_lock, get, list, status, config,
           set_config):
    _f.__doc__ = getattr(Client, _f.__name__).__doc__ + \
        "\n\n(With this thread's default Client.)"

__all__ = [
    "Client", "Lease", "Watcher", "Status", "Config", "LockInfo", "Entry",
    "Cluster", "ClusterPeer",
    "Event", "Lost", "Error", "WouldBlock", "Timeout", "Deadlock",
    "PermissionDenied", "NotFound", "NotLoaded", "LimitExceeded",
    "InvalidArgument", "Interrupted", "LeaseReleased", "lock", "semaphore",
    "release", "renew", "set_value", "break_lock", "get", "list", "status",
    "config", "set_config", "watch", "default_client", "version", "to_ms",
]
