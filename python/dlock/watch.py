# SPDX-License-Identifier: LGPL-2.1-or-later
"""Watcher: lock events as an iterator, on a handle of its own."""
import select
import time

from . import _lib, args
from .client import Client
from .info import Event


class Watcher:
    """Events (dlock.Event) of locks whose names start with a prefix.

        with dlock.watch("jobs/") as w:
            for ev in w:                    # blocks for each event
                print(ev.type, ev.name, ev.token)

    get(timeout) waits at most @timeout seconds and returns None when
    nothing came.  An event of type "overflow" says the kernel dropped
    events for this watcher (state may have changed unseen: list() shows it
    now).  Watchers only observe, they never contend.  Like a Client, a
    Watcher belongs to the thread that opened it.
    """

    def __init__(self, prefix=None):
        raw = args.prefix_bytes(prefix)
        self._client = Client()
        self._queue = []
        lib = self._client._lib
        h = self._client._handle()

        def on_event(_d, ev, _arg):
            self._queue.append(Event.from_c(ev.contents))

        def on_overflow(_d, _arg):
            self._queue.append(Event("overflow"))
        # Kept alive with the Watcher: libdlock calls them until close.
        self._cbs = (_lib.EVENT_CB(on_event), _lib.OVERFLOW_CB(on_overflow))
        lib.dlock_on_overflow(h, self._cbs[1], None)
        try:
            self._client._call("dlock_watch", prefix, raw, self._cbs[0], None)
        except BaseException:
            self.close()
            raise

    def fileno(self):
        return self._client.fileno()

    def get(self, timeout=None):
        """The next event, waiting up to @timeout seconds (None: for ever);
        None if none came in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        poller = select.poll()
        poller.register(self.fileno(), select.POLLIN)
        while not self._queue:
            left = None
            if deadline is not None:
                left = max(0, deadline - time.monotonic())
            if poller.poll(None if left is None else left * 1000):
                self._client._call("dlock_dispatch", None)
            elif left is not None:
                return None
        return self._queue.pop(0)

    def __iter__(self):
        while True:
            yield self.get()

    def close(self):
        self._client.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
