# SPDX-License-Identifier: LGPL-2.1-or-later
"""Lease: one granted acquire, and the context manager that releases it."""
from .errors import LeaseReleased, NotFound


class Lease:
    """A granted lease.

    token: the fencing token (increases with every grant of the name);
    count: the reentrancy count after this acquire; ttl: the TTL granted
    in seconds (cut to the namespace's cap), None for a lease without TTL.

    Each Lease stands for one acquire: release() drops that one reentrancy
    level, after which the object refuses every use with LeaseReleased.
    Leaving a with block releases it, also when the block raised.
    """

    def __init__(self, client, name, mode, granted, ttl, owner, tag):
        self._client = client
        # "expired" or "broken" once libdlock reported the lease lost.
        self.lost = None
        self.kept_alive = False
        self.name = name
        self.mode = mode
        self.token = granted.token
        self.count = granted.count
        self.ttl = granted.ttl_ms / 1000 if granted.ttl_ms else None
        self.owner = owner
        self.tag = tag
        self._asked_ttl = ttl

    @property
    def released(self):
        return self._client is None

    def _live(self):
        if self._client is None:
            raise LeaseReleased(f"lease on {self.name!r} (token {self.token})"
                                " was released: acquire the lock again")
        return self._client

    def _who(self):
        return {"owner": self.owner, "tag": self.tag}

    def release(self):
        """Drop this acquire's reentrancy level; returns the levels the
        owner still holds (0: the lease ended)."""
        client = self._live()
        client._handle()        # wrong thread or closed: still ours
        self._client = None     # even if the kernel refuses: it is not ours
        return client.release(self.name, **self._who())

    def renew(self, ttl=None):
        """Restart the TTL at @ttl (default: the TTL asked for at acquire)
        from now."""
        client = self._live()
        ttl = self._asked_ttl if ttl is None else ttl
        if ttl is None:
            raise ValueError("this lease has no TTL to renew: give one")
        client.renew(self.name, ttl, **self._who())

    def keepalive(self, on=True):
        """Have libdlock renew the lease at a third of its TTL from now on
        (on=False: stop; it then runs out at its TTL)."""
        client = self._live()
        if on:
            if self._asked_ttl is None:
                raise ValueError("this lease has no TTL to keep alive")
            client.keepalive(self.name, self._asked_ttl, **self._who())
        else:
            client.keepalive_stop(self.name, **self._who())
        self.kept_alive = on

    def holder(self):
        """This lease's Entry in the lock's holders (value, remaining time);
        NotFound when it is no longer held (expired or broken)."""
        info = self._live().get(self.name)
        for h in info.holders if info else ():
            if h.token == self.token:
                return h
        raise NotFound(2, "the lease is no longer held", self.name)

    @property
    def value(self):
        """The value attached to the lease (bytes), or None."""
        return self.holder().value

    @value.setter
    def value(self, value):
        self._live().set_value(self.name, value, **self._who())

    def __enter__(self):
        self._live()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._client is None:
            return      # released inside the block already
        try:
            self.release()
        except Exception as e:
            if exc is None:
                raise
            # Do not hide the block's own exception behind this one.
            exc.add_note(f"dlock: releasing {self.name!r} failed too: {e}")

    def __repr__(self):
        state = "released" if self._client is None else "held"
        return (f"<dlock.Lease {self.name!r} {self.mode} token {self.token} "
                f"count {self.count} {state}>")
