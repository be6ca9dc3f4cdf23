#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In-guest tests of the Python binding (python/dlock) against dlock.ko.
Environment: DLOCK_LIBRARY (build/libdlock.so.1), as run-all sets it;
DLOCK_PY_INSTALLED=1 tests the installed module (e.g. python3-dlock, with
DLOCK_LIBRARY unset) instead of the tree's python/.
Every lock is named py/...; the last test checks that none is left.
Prints TAP."""
import errno
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True    # no __pycache__ in the tree
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
sys.path.insert(0, os.path.join(ROOT, "tests"))
if not os.environ.get("DLOCK_PY_INSTALLED"):
    sys.path.insert(0, os.path.join(ROOT, "python"))

import dlock  # noqa: E402
from tap import raises, run, test  # noqa: E402


def wait_until(cond, what):
    """Polls @cond until it is true (for at most a minute: the guest is
    slow, and a broken binding must fail, not hang)."""
    for _ in range(1200):
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def worker(argv):
    """Child process modes (python_test.py --worker MODE ...)."""
    mode = argv[0]
    if mode == "count":
        # Increments a counter file N times under the lock.  A marker file
        # made with O_EXCL catches two holders inside at once; the sleep
        # widens the window in which a broken lock would let both in.
        name, n, path = argv[1], int(argv[2]), argv[3]
        overlaps = 0
        # Both start together (the parent says go once both are ready):
        # started seconds apart, one could be done before the other began.
        print("ready", flush=True)
        sys.stdin.readline()
        for _ in range(n):
            with dlock.lock(name, ttl=60):
                try:
                    fd = os.open(path + ".in", os.O_CREAT | os.O_EXCL)
                    os.close(fd)
                except FileExistsError:
                    overlaps += 1
                with open(path) as f:
                    v = int(f.read())
                time.sleep(0.005)
                with open(path, "w") as f:
                    f.write(str(v + 1))
                try:
                    os.unlink(path + ".in")
                except FileNotFoundError:
                    overlaps += 1
        print(overlaps)
    elif mode == "wait":
        with dlock.lock(argv[1], ttl=60) as lease:
            print(lease.token, dlock.get(argv[1]).holders[0].token)
    return 0


if len(sys.argv) > 1 and sys.argv[1] == "--worker":
    sys.exit(worker(sys.argv[2:]))


def child(*args):
    return subprocess.Popen([sys.executable, __file__, "--worker", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


@test("two processes take turns: no overlap, no lost increment")
def mutual_exclusion():
    n = 40
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "counter")
        with open(path, "w") as f:
            f.write("0")
        procs = [child("count", "py/mutex", str(n), path) for _ in range(2)]
        for p in procs:
            assert p.stdout.readline() == "ready\n"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = [p.communicate()[0] for p in procs]
        assert all(p.returncode == 0 for p in procs), outs
        with open(path) as f:
            total = int(f.read())
    assert [o.strip() for o in outs] == ["0", "0"], outs
    assert total == 2 * n, f"counter {total}, want {2 * n}"


@test("a waiting process gets the lock on release, with a greater token")
def hand_off():
    with dlock.lock("py/handoff", ttl=60) as lease:
        assert dlock.get("py/handoff").holders[0].token == lease.token
        p = child("wait", "py/handoff")
        wait_until(lambda: dlock.get("py/handoff").waiters, "the waiter")
    out = p.communicate()[0].split()
    assert p.returncode == 0 and out[0] == out[1], out
    assert int(out[0]) > lease.token, (out, lease.token)


@test("a with block releases the lease when the block raises")
def release_on_exception():
    class Boom(Exception):
        pass
    try:
        with dlock.lock("py/ctx", ttl=60) as lease:
            assert dlock.get("py/ctx").holders[0].token == lease.token
            # a single node is always current: the flag changes nothing
            assert dlock.get("py/ctx", linearizable=True) \
                .holders[0].token == lease.token
            assert [i.name for i in dlock.list("py/ctx", True)] == ["py/ctx"]
            raise Boom()
    except Boom:
        pass
    assert lease.released and dlock.get("py/ctx") is None
    with dlock.Client() as other:
        with other.lock("py/ctx", blocking=False):
            pass


@test("blocking=False on a held lock raises WouldBlock (EAGAIN, reason)")
def try_lock():
    with dlock.lock("py/try", ttl=60), dlock.Client() as other:
        e = raises(dlock.WouldBlock, other.lock, "py/try", blocking=False)
        assert e.errno == errno.EAGAIN and isinstance(e, BlockingIOError)
        assert e.name == "py/try" and e.reason, e
        assert dlock.get("py/try").waiters == [], "a try-lock was queued"


@test("a wait that runs out raises Timeout and leaves no waiter")
def timeout():
    with dlock.lock("py/timeout", ttl=60), dlock.Client() as other:
        e = raises(dlock.Timeout, other.lock, "py/timeout", timeout=0.2)
        assert e.errno == errno.ETIMEDOUT and isinstance(e, TimeoutError)
        assert dlock.get("py/timeout").waiters == []


@test("shared holders coexist; an exclusive request is refused meanwhile")
def shared():
    with dlock.Client() as a, dlock.Client() as b, dlock.Client() as c:
        la = a.lock("py/shared", mode="shared")
        lb = b.lock("py/shared", mode="shared", blocking=False)
        info = dlock.get("py/shared")
        assert info.mode == "shared" and len(info.holders) == 2, info
        assert {h.token for h in info.holders} == {la.token, lb.token}
        raises(dlock.WouldBlock, c.lock, "py/shared", blocking=False)
        la.release()
        lb.release()
        c.lock("py/shared", blocking=False).release()


@test("a semaphore admits exactly its permits")
def semaphore():
    clients = [dlock.Client() for _ in range(4)]
    try:
        held = [c.semaphore("py/sem", 3, blocking=False) for c in clients[:3]]
        info = dlock.get("py/sem")
        assert info.mode == "semaphore" and info.permits == 3, info
        assert len(info.holders) == 3
        raises(dlock.WouldBlock, clients[3].semaphore, "py/sem", 3,
               blocking=False)
        held.pop().release()
        held.append(clients[3].semaphore("py/sem", 3, blocking=False))
        e = raises(dlock.InvalidArgument, clients[2].semaphore, "py/sem", 5,
                   blocking=False)
        assert "permits differ" in e.reason, e
        for lease in held:
            lease.release()
    finally:
        for c in clients:
            c.close()


@test("values: set, read back by another client, replaced, cleared")
def values():
    with dlock.lock("py/value", ttl=60) as lease:
        assert lease.value is None
        lease.value = b"\x00bin\xff"
        assert lease.value == b"\x00bin\xff"
        lease.value = "caf\u00e9"
        with dlock.Client() as other:
            assert other.get("py/value").holders[0].value == \
                "caf\u00e9".encode()
        lease.value = None
        assert lease.value is None
        e = raises(dlock.InvalidArgument, setattr, lease, "value", b"v" * 1025)
        assert e.name == "py/value" and "1024 bytes" in e.reason, e


@test("tokens increase with every grant; reentry keeps the token, counts")
def tokens():
    seen = []
    for _ in range(3):
        with dlock.lock("py/token", ttl=60) as lease:
            seen.append(lease.token)
    assert seen == sorted(set(seen)), seen
    with dlock.lock("py/token", ttl=60) as outer:
        assert outer.token > seen[-1] and outer.count == 1
        with dlock.lock("py/token", ttl=60) as inner:
            assert (inner.token, inner.count) == (outer.token, 2)
        assert dlock.get("py/token").holders[0].count == 1
        raises(dlock.LeaseReleased, inner.renew)
        outer.renew(30)
    assert dlock.get("py/token") is None


@test("watch: granted, value and released events of the prefix, in order")
def watch():
    with dlock.watch("py/watch/") as w:
        assert w.get(timeout=0) is None
        dlock.lock("py/other", ttl=60).release()
        with dlock.lock("py/watch/a", ttl=60) as lease:
            lease.value = b"v"
        got = [w.get(timeout=60) for _ in range(3)]
        assert [(e.type, e.name, e.token) for e in got] == [
            ("granted", "py/watch/a", lease.token),
            ("value", "py/watch/a", lease.token),
            ("released", "py/watch/a", lease.token)], got
        assert got[0].mode == "exclusive"
        assert w.get(timeout=0) is None, "an event of another prefix"


@test("errors carry errno and reason: name too long, not the owner, ...")
def errors():
    e = raises(dlock.InvalidArgument, dlock.lock, "n" * 256)
    assert e.errno == errno.EINVAL and "1 to 255 bytes" in e.reason, e
    dlock.lock("py/err", ttl=60).release()  # a session: owners get ENOENT
    e = raises(dlock.NotFound, dlock.release, "py/none")
    assert e.errno == errno.ENOENT and e.reason == "no such lock", e
    with dlock.lock("py/err", ttl=60), dlock.Client() as other:
        e = raises(dlock.PermissionDenied, other.renew, "py/err", 10)
        assert e.reason == "lock is not held by this owner", e
        e = raises(dlock.PermissionDenied, other.release, "py/err")
        assert e.errno == errno.EPERM and isinstance(e, PermissionError)
    with dlock.lock("py/err", mode="shared"):
        e = raises(dlock.Deadlock, dlock.lock, "py/err")
        assert e.errno == errno.EDEADLK and "another mode" in e.reason, e
    assert dlock.get("py/err") is None


@test("a detached lease outlives its client; its owner string renews, "
      "releases")
def detached():
    with dlock.Client() as c:
        lease = c.lock("py/detached", ttl=60, owner="py-owner")
        assert lease.ttl == 60.0
    info = dlock.get("py/detached")
    assert info.holders[0].owner == "py-owner", info
    raises(dlock.PermissionDenied, dlock.release, "py/detached",
           owner="someone-else")
    dlock.renew("py/detached", "2m", owner="py-owner")
    assert dlock.get("py/detached").holders[0].remaining > 60
    dlock.set_value("py/detached", "v", owner="py-owner")
    assert dlock.release("py/detached", owner="py-owner") == 0
    assert dlock.get("py/detached") is None


@test("break ends a lease; its client learns it was lost (on_lost)")
def break_lock():
    lost = []
    with dlock.Client() as holder:
        holder.on_lost(lost.append)
        lease = holder.lock("py/break", ttl=60)
        dlock.break_lock("py/break", lease.token)
        assert dlock.get("py/break") is None
        wait_until(lambda: holder.dispatch() or lost, "the lost notice")
        assert [(x.name, x.token, x.reason) for x in lost] == \
            [("py/break", lease.token, "broken")], lost
        assert lease.lost == "broken"


@test("keepalive: a lease outlives its TTL; when broken, Lease.lost says so")
def keepalive():
    with dlock.Client() as holder:
        lease = holder.lock("py/ka", ttl=2, keepalive=True)
        # Past its TTL without a call on the Client: only libdlock's
        # keep-alive thread can keep the lease.
        time.sleep(5)
        assert lease.holder().token == lease.token and lease.lost is None
        dlock.break_lock("py/ka", lease.token)
        # The keep-alive thread hears of it; nobody calls dispatch().
        wait_until(lambda: lease.lost, "Lease.lost")
        assert lease.lost == "broken", lease.lost
        other = holder.lock("py/ka2", ttl=2)
        other.keepalive()
        time.sleep(5)
        assert other.holder().token == other.token
        other.keepalive(False)
        other.release()
    assert dlock.get("py/ka") is None and dlock.get("py/ka2") is None


@test("a signal handler that raises ends a wait; the request is withdrawn")
def interrupted():
    class Alarm(Exception):
        pass

    def ring(_sig, _frame):
        raise Alarm()
    old = signal.signal(signal.SIGALRM, ring)
    try:
        with dlock.Client() as holder:
            holder.lock("py/intr", ttl=60)
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            # The timeout only keeps a broken binding from hanging here.
            raises(Alarm, dlock.lock, "py/intr", timeout=60)
            assert dlock.get("py/intr").waiters == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert dlock.get("py/intr") is None


@test("a Client refuses other threads; each thread has its own default")
def threads():
    c = dlock.Client()
    box = {}

    def other():
        try:
            c.status()
        except RuntimeError as e:
            box["err"] = e
        try:
            dlock.lock("py/thread", blocking=False)
        except dlock.WouldBlock as e:
            box["busy"] = e
    with dlock.lock("py/thread"):
        t = threading.Thread(target=other)
        t.start()
        t.join()
    c.close()
    assert "thread" in str(box.get("err")), box
    assert isinstance(box.get("busy"), dlock.WouldBlock), box
    raises(ValueError, c.status)


@test("status and config: version, lease count, a TTL cut to the cap")
def status_config():
    with open(os.path.join(ROOT, "VERSION")) as f:
        assert dlock.status().version == f.read().strip()
    st = dlock.status()
    before, grants = st.leases, st.counters["grants"]
    assert st.locks is not None, st
    old = dlock.config()
    try:
        now = dlock.set_config(max_ttl=5)
        assert now.max_ttl == 5.0
        with dlock.lock("py/status", ttl="1h") as lease:
            assert lease.ttl == 5.0, lease.ttl
            st = dlock.status()
            assert st.leases == before + 1, st
            assert st.counters["grants"] == grants + 1, st
    finally:
        dlock.set_config(max_ttl=old.max_ttl)
    assert dlock.config().max_ttl == old.max_ttl
    raises(TypeError, dlock.set_config, max_bogus=1)
    raises(TypeError, dlock.set_config, max_ttl_ms=1000)   # it is max_ttl


@test("a forked child cannot use its parent's client, opens its own")
def fork():
    parent = dlock.default_client()
    with dlock.lock("py/fork", ttl=60):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                try:
                    parent.status()
                except RuntimeError:
                    try:
                        dlock.lock("py/fork", blocking=False)
                    except dlock.WouldBlock:
                        code = 0
            finally:
                os._exit(code)
        os.close(w)
        os.close(r)
        _, st = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(st) == 0, st


@test("cleanup: no py/ lock is left behind")
def cleanup():
    left = dlock.list("py/")
    assert left == [], left


sys.exit(run())
