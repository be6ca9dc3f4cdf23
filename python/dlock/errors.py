# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions: every failed libdlock call raises an Error carrying the errno
and the reason (the kernel's own explanation when it sent one)."""
import errno as _errno


class Error(OSError):
    """A dlock request failed.

    errno: the error number libdlock returned (positive, as in OSError);
    reason (also strerror): the kernel's extended-ack message when it sent
    one, else libdlock's description of errno; name: the lock, or None.
    """

    def __init__(self, errno, reason, name=None):
        super().__init__(errno, reason)
        self.name = name

    @property
    def reason(self):
        return self.strerror

    def __str__(self):
        if self.name is None:
            return str(self.strerror)
        return f"{self.name}: {self.strerror}"

    def __reduce__(self):
        return (type(self), (self.errno, self.strerror, self.name))


class WouldBlock(Error, BlockingIOError):
    """EAGAIN: the lock is held and the request was not to wait
    (blocking=False)."""


class Timeout(Error, TimeoutError):
    """ETIMEDOUT: the wait ran out (timeout=)."""


class Deadlock(Error):
    """EDEADLK: waiting would close a cycle of owners."""


class PermissionDenied(Error, PermissionError):
    """EPERM: not the lease's owner, another user's lease, or a command that
    needs CAP_NET_ADMIN."""


class NotFound(Error, FileNotFoundError):
    """ENOENT: no such lock (release, renew, set-value, get)."""


class NotLoaded(Error):
    """The dlock kernel module is not loaded (no generic netlink family)."""


class LimitExceeded(Error):
    """ENOSPC, EDQUOT or EUSERS: a namespace, socket, per-user or cluster
    client limit."""


class InvalidArgument(Error, ValueError):
    """EINVAL: the request was refused as malformed (see reason), by the
    kernel or already by the binding's own checks of its arguments."""


class Interrupted(Error, InterruptedError):
    """EINTR: a signal ended the wait and its handler did not raise."""


class LeaseReleased(RuntimeError):
    """The Lease object was used after its release: acquire again."""


_BY_ERRNO = {
    _errno.EAGAIN: WouldBlock,
    _errno.ETIMEDOUT: Timeout,
    _errno.EDEADLK: Deadlock,
    _errno.EPERM: PermissionDenied,
    _errno.EACCES: PermissionDenied,
    _errno.ENOENT: NotFound,
    _errno.ENOSPC: LimitExceeded,
    _errno.EDQUOT: LimitExceeded,
    _errno.EUSERS: LimitExceeded,
    _errno.EINVAL: InvalidArgument,
    _errno.EINTR: Interrupted,
}


def from_errno(err, reason, name=None, cls=None):
    """The exception for libdlock's return value @err (negative or positive
    errno); @cls overrides the class chosen by errno."""
    err = abs(err)
    if cls is None:
        cls = _BY_ERRNO.get(err, Error)
    return cls(err, reason, name)
