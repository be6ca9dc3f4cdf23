# SPDX-License-Identifier: LGPL-2.1-or-later
"""Client: one libdlock handle (one netlink socket to the kernel module).

Thread safety: a libdlock handle must not be used by two threads at once,
and a socket-bound lease is owned by the thread that took it (its owner tag
is that thread's id).  So a Client belongs to the thread that opened it and
refuses calls from any other thread with a RuntimeError; open one per
thread (handles are cheap), or use the module-level functions, which keep
one default Client per thread.  A Client opened before fork() is refused in
the child (the leases stay the parent's): open a new one there.

The one exception is libdlock's keep-alive thread, which a Client starts for
its first keepalive lease: it renews leases and receives lost-lease notices
whenever the owning thread is not in a call, so the Lease objects learn of
a loss (Lease.lost) without the program calling dispatch().
"""
import ctypes
import errno
import math
import os
import threading
import time
import weakref

from . import _lib, args
from .errors import Error, NotFound, NotLoaded, Timeout, from_errno
from .info import (Cluster, Config, LockInfo, Lost, Status, USER_LIMITS,
                   parse_endpoint, set_addr)
from .lease import Lease

_LIST_RETRIES = 8


class Client:
    """An open connection to the dlock module of the caller's network
    namespace.  Closing it (close(), the end of a with block, or process
    exit) ends its socket-bound leases and waits at once."""

    def __init__(self):
        lib = _lib.get()
        h = ctypes.c_void_p()
        err = lib.dlock_open(ctypes.byref(h))
        if err < 0:
            reason = lib.dlock_strerror(None, err).decode(errors="replace")
            raise from_errno(err, reason, cls=NotLoaded
                             if err == -errno.ENOENT else None)
        self._lib = lib
        self._h = h
        self._thread = threading.get_ident()
        self._pid = os.getpid()
        self._lost_user = None
        self._lost_pending = []
        self._ka_thread = False
        # Live leases, to mark the lost ones; the lost callback can run on
        # the keep-alive thread, hence the lock.
        self._leases = weakref.WeakSet()
        self._leases_lock = threading.Lock()
        me = weakref.ref(self)  # no cycle through the C callback

        def lost(_d, ptr, _arg):
            client = me()
            if client is not None:
                client._lost(Lost.from_c(ptr.contents))
        self._lost_c = _lib.LOST_CB(lost)   # alive as long as the handle
        lib.dlock_on_lost(h, self._lost_c, None)

    # ---- the handle ------------------------------------------------------

    @property
    def closed(self):
        return self._h is None

    def _handle(self):
        if self._h is None:
            raise ValueError("dlock client is closed")
        if os.getpid() != self._pid:
            raise RuntimeError(f"dlock client was opened by process "
                               f"{self._pid} before fork(); open a new "
                               "Client in this process")
        if threading.get_ident() != self._thread:
            raise RuntimeError("dlock client used from a thread that did "
                               "not open it: open one Client per thread")
        return self._h

    def _fail(self, err, name=None):
        reason = self._lib.dlock_strerror(self._h, err)
        return from_errno(err, reason.decode(errors="replace"), name)

    def _call(self, fn, name, *a):
        err = getattr(self._lib, fn)(self._handle(), *a)
        if err < 0:
            raise self._fail(err, name)
        return err

    def close(self):
        """Close the handle; its socket-bound leases end now.  In a forked
        child this only drops the child's copy (dlock_forget()): the
        parent's leases stay the parent's."""
        if self._h is not None:
            if os.getpid() == self._pid:
                self._lib.dlock_close(self._h)
            else:
                self._lib.dlock_forget(self._h)
        self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            if getattr(self, "_h", None) is not None:
                self.close()
        except Exception:
            pass    # at interpreter exit os and ctypes may be gone already

    def __repr__(self):
        state = "closed" if self._h is None else f"fd {self.fileno()}"
        return f"<dlock.Client {state}>"

    # ---- acquiring -------------------------------------------------------

    def lock(self, name, ttl=None, *, mode="exclusive", permits=None,
             blocking=True, timeout=None, owner=None, tag=0, keepalive=False):
        """Take a lease on @name and return it as a Lease (a context
        manager that releases it).

        ttl: seconds (int, float, or a string with a unit such as "1.5s");
          None: a socket-bound lease without TTL, which lasts until released
          or until this Client closes or the process dies.
        mode: "exclusive", "shared" or "semaphore" (then permits=N).
        blocking=False: never wait; raises WouldBlock when held.
        timeout: the longest wait in seconds; raises Timeout when it ran
          out.  None: wait as long as it takes.
        owner: a detached lease owned by this string (needs a ttl); it
          outlives the Client and answers to whoever presents the string.
        tag: the socket-bound owner (0: the calling thread).
        keepalive: libdlock renews the lease at a third of its TTL until it
          is released or lost (Lease.lost says which), from a thread of its
          own: a TTL that guards against a hung holder, not a dead one.

        A signal that arrives while waiting runs its Python handler; if
        that raises (KeyboardInterrupt), the request is withdrawn and the
        exception propagates, else the wait resumes (at the back of the
        queue) with what is left of the timeout.  (libdlock's
        DLOCK_F_RESTART, waiting on in place, is not used: Python runs a
        handler only once the C call returned, so it would not run until
        the grant.)
        """
        raw, opts, _ = args.acquire_opts(name, ttl, mode, permits,
                                         blocking, timeout, owner, tag,
                                         keepalive)
        h = self._handle()
        if keepalive:
            self._start_keepalive()
        lease = _lib.Lease()
        deadline = (time.monotonic() + opts.wait_ms / 1000
                    if opts.wait_ms else None)
        while True:
            err = self._lib.dlock_acquire(h, raw, ctypes.byref(opts),
                                          ctypes.byref(lease))
            if err != -errno.EINTR:
                break
            _lib.check_signals()
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Timeout(errno.ETIMEDOUT, "the wait ran out", name)
                opts.wait_ms = max(1, math.ceil(left * 1000))
        if err < 0:
            raise self._fail(err, name)
        granted = Lease(self, name, mode, lease, ttl, owner, tag)
        granted.kept_alive = bool(keepalive)
        with self._leases_lock:
            self._leases.add(granted)
        return granted

    def semaphore(self, name, permits, ttl=None, **kw):
        """lock(name, ttl, mode="semaphore", permits=permits, ...)."""
        return self.lock(name, ttl, mode="semaphore", permits=permits, **kw)

    # ---- by name: leases held elsewhere (detached owners) ----------------

    @staticmethod
    def _owner(owner, tag):
        o = _lib.Owner()
        o.str = args.owner_bytes(owner)
        o.tag = args.check_tag(tag, owner)
        return o

    def release(self, name, *, owner=None, tag=0):
        """Drop one reentrancy level of the caller's lease on @name (owner=:
        a detached lease's owner string).  Returns the levels left."""
        raw = args.name_bytes(name)
        o = self._owner(owner, tag)
        return self._call("dlock_release", name, raw, ctypes.byref(o))

    def renew(self, name, ttl, *, owner=None, tag=0):
        """Restart the TTL of the caller's lease on @name at @ttl from now."""
        raw = args.name_bytes(name)
        ms = args.duration_ms(ttl, "ttl", name)
        o = self._owner(owner, tag)
        self._call("dlock_renew", name, raw, ctypes.byref(o), ms)

    def set_value(self, name, value, *, owner=None, tag=0):
        """Attach @value (bytes or str, up to 1024 bytes; None or b"":
        none) to the caller's lease on @name."""
        raw = args.name_bytes(name)
        v = args.value_bytes(value, name)
        o = self._owner(owner, tag)
        self._call("dlock_set_value", name, raw, ctypes.byref(o), v, len(v))

    def break_lock(self, name, token=0):
        """End a lease by force (CAP_NET_ADMIN): the one with @token, or
        every holder of @name when token is 0."""
        raw = args.name_bytes(name)
        if isinstance(token, bool) or not isinstance(token, int) or \
                not 0 <= token <= args.U64_MAX:
            raise args.bad(f"token must be 0 to 2**64-1, not {token!r}", name)
        self._call("dlock_break", name, raw, token)

    # ---- inspection ------------------------------------------------------

    def _linearizable(self, on):
        if on or hasattr(self._lib, "dlock_set_linearizable"):
            _lib.require(self._lib, "dlock_set_linearizable")(
                self._handle(), 1 if on else 0)

    def get(self, name, linearizable=False):
        """The LockInfo of @name, or None when nobody holds or awaits it.
        On a cluster node, @linearizable reads only once the node applied
        everything committed before the call (dlock_set_linearizable(3))."""
        raw = args.name_bytes(name)
        p = ctypes.POINTER(_lib.LockInfo)()
        self._linearizable(linearizable)
        try:
            self._call("dlock_get", name, raw, ctypes.byref(p))
        except NotFound:
            return None
        try:
            return LockInfo.from_c(p.contents)
        finally:
            self._lib.dlock_lock_info_free(p)

    def list(self, prefix=None, linearizable=False):
        """Every lock whose name starts with @prefix (None: all), as a list
        of LockInfo.  The walk is repeated when the table changed under it,
        so what comes back is one consistent picture.  @linearizable: as
        for get()."""
        raw = args.prefix_bytes(prefix)
        h = self._handle()
        self._linearizable(linearizable)
        for _ in range(_LIST_RETRIES):
            found, failure = [], []

            def one(info, _arg):
                try:
                    found.append(LockInfo.from_c(info.contents))
                    return 0
                except BaseException as e:  # never unwind through C
                    failure.append(e)
                    return 1
            err = self._lib.dlock_list(h, raw, _lib.LIST_CB(one), None)
            if failure:
                raise failure[0]
            if err != -errno.EAGAIN:
                break
        if err < 0:
            raise self._fail(err, prefix)
        return found

    def status(self):
        """The module's version and the namespace's counters."""
        st = _lib.Status()
        self._call("dlock_get_status", None, ctypes.byref(st))
        return Status.from_c(st)

    def config(self):
        """The namespace's limits (a Config)."""
        c = _lib.Config()
        self._call("dlock_get_config", None, ctypes.byref(c))
        return Config.from_c(c)

    def set_config(self, **limits):
        """Change limits (CAP_NET_ADMIN), e.g. set_config(max_ttl="1h",
        max_leases=1000, max_user_leases="auto"); returns the Config now in
        force."""
        c = _lib.Config()
        bits = 0
        for key, value in limits.items():
            field = "max_ttl_ms" if key == "max_ttl" else key
            if field not in _lib.CFG_FIELDS or key == "max_ttl_ms":
                raise TypeError(f"set_config() got an unknown limit {key!r}")
            if field == "max_ttl_ms":
                value = args.duration_ms(value, "max_ttl")
            elif key in USER_LIMITS and value == "auto":
                value = _lib.USER_LIMIT_AUTO
            else:
                value = args.u32(value, key)
            setattr(c, field, value)
            bits |= 1 << _lib.CFG_FIELDS.index(field)
        self._call("dlock_set_config", None, ctypes.byref(c), bits)
        return Config.from_c(c)

    # ---- cluster ---------------------------------------------------------

    def cluster(self):
        """This namespace as a node of a cluster (a Cluster; id 0, role
        "none": not in one)."""
        get = _lib.require(self._lib, "dlock_get_cluster")
        out = ctypes.POINTER(_lib.Cluster)()
        err = get(self._handle(), ctypes.byref(out))
        if err < 0:
            raise self._fail(err)
        try:
            return Cluster.from_c(out.contents)
        finally:
            self._lib.dlock_cluster_free(out)

    def set_cluster(self, id, listen_port, peers, *, listen_address=None):
        """Make this namespace node @id of a cluster (CAP_NET_ADMIN): it
        listens on UDP @listen_port (of @listen_address, default every
        address) and @peers maps each other node's id to its endpoint,
        "10.0.0.2:7400" or "[fd00::2]:7400".  The configuration replaces
        the one in force as a whole.  Returns the Cluster now in force."""
        c = _lib.Cluster()
        c.id = args.u32(id, "id")
        c.listen.port = args.u32(listen_port, "listen_port")
        if not 1 <= c.listen.port <= 65535:
            raise args.bad(f"listen_port {listen_port} is not a port "
                           "(1..65535)")
        if listen_address is not None:
            set_addr(c.listen, listen_address, "listen_address")
        peers = dict(peers)
        arr = (_lib.ClusterPeer * max(len(peers), 1))()
        for i, (pid, endpoint) in enumerate(sorted(peers.items())):
            arr[i].id = args.u32(pid, "peer id")
            arr[i].endpoint = parse_endpoint(endpoint, f"peer {pid}")
        c.n_peers = len(peers)
        c.peers = arr
        setc = _lib.require(self._lib, "dlock_set_cluster")
        err = setc(self._handle(), ctypes.byref(c))
        if err < 0:
            raise self._fail(err)
        return self.cluster()

    def leave_cluster(self):
        """Back to single-node mode (CAP_NET_ADMIN)."""
        setc = _lib.require(self._lib, "dlock_set_cluster")
        err = setc(self._handle(), None)
        if err < 0:
            raise self._fail(err)

    # ---- event-loop form -------------------------------------------------

    def fileno(self):
        """The socket to poll for POLLIN before dispatch()."""
        return self._lib.dlock_fd(self._handle())

    # ---- keep-alive -----------------------------------------------------

    def _start_keepalive(self):
        if not self._ka_thread:
            self._call("dlock_keepalive_thread", None, 1)
            self._ka_thread = True

    def keepalive(self, name, ttl, *, owner=None, tag=0):
        """Renew the caller's lease on @name now with @ttl, then every third
        of it, until released or lost (or keepalive_stop())."""
        raw = args.name_bytes(name)
        ms = args.duration_ms(ttl, "ttl", name)
        o = self._owner(owner, tag)
        self._start_keepalive()
        self._call("dlock_keepalive", name, raw, ctypes.byref(o), ms)

    def keepalive_stop(self, name, *, owner=None, tag=0):
        """Stop renewing the lease; it runs out at its TTL."""
        raw = args.name_bytes(name)
        o = self._owner(owner, tag)
        self._call("dlock_keepalive_stop", name, raw, ctypes.byref(o))

    # ---- lost leases and the event-loop form ------------------------------

    def _lost(self, lost):
        """From libdlock, on whichever thread dispatched."""
        raw = lost.name.encode("utf-8", "surrogateescape")
        with self._leases_lock:
            for lease in list(self._leases):
                if lease.token == lost.token and \
                        args.name_bytes(lease.name) == raw:
                    lease.lost = lost.reason
            self._lost_pending.append(lost)

    def on_lost(self, callback):
        """Call callback(Lost) from dispatch() (on this Client's thread)
        for each socket-bound lease of this Client that ended without
        being released (TTL ran out, or broken).  Lease.lost is set either
        way."""
        self._handle()
        self._lost_user = callback

    def dispatch(self):
        """Handle what the kernel sent (lost-lease notices) and renewals due,
        without blocking; returns the number of callbacks run."""
        n = self._call("dlock_dispatch", None)
        with self._leases_lock:
            pending, self._lost_pending = self._lost_pending, []
        if self._lost_user is not None:
            for lost in pending:
                self._lost_user(lost)
        return n

    def watch(self, prefix=None):
        """A Watcher of lock events on names starting with @prefix; it opens
        a handle of its own (watchers should not share one)."""
        from .watch import Watcher
        return Watcher(prefix)


def version():
    """libdlock's version string."""
    return _lib.get().dlock_version().decode()


__all__ = ["Client", "Error", "version"]
