#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Host tests of the Python binding (python/dlock): everything that needs no
dlock module.  The host kernel has no dlock family, which is the "module
not loaded" case.  Environment: DLOCK_LIBRARY (build/libdlock.so.1) and
PY_LAYOUT (the py_layout program).  Prints TAP."""
import errno
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True    # no __pycache__ in the tree
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
sys.path[:0] = [os.path.join(ROOT, "python"), os.path.join(ROOT, "tests")]

import dlock  # noqa: E402
from dlock import _lib, args  # noqa: E402
from tap import raises, run, test  # noqa: E402


@test("ctypes structures match dlock.h's layout (sizes, offsets, constants)")
def layout():
    out = subprocess.run([os.environ["PY_LAYOUT"]], check=True,
                         capture_output=True, text=True).stdout
    classes = {"dlock_status": _lib.Status, "dlock_config": _lib.Config,
               "dlock_counters": _lib.Counters,
               "dlock_acquire_opts": _lib.AcquireOpts,
               "dlock_lease": _lib.Lease, "dlock_owner": _lib.Owner,
               "dlock_entry": _lib.Entry, "dlock_lock_info": _lib.LockInfo,
               "dlock_event": _lib.Event, "dlock_lost": _lib.Lost,
               "dlock_cluster_addr": _lib.ClusterAddr,
               "dlock_cluster_peer": _lib.ClusterPeer,
               "dlock_cluster": _lib.Cluster}
    seen, wrong = set(), []
    for line in out.splitlines():
        key, *nums = line.split()
        if key == "const":
            name, value = nums
            if name.startswith("CFG_"):
                ours = 1 << _lib.CFG_FIELDS.index(name[4:].lower())
            else:
                ours = getattr(_lib, name)
            if ours != int(value):
                wrong.append(f"{name} is {ours}, C {value}")
            continue
        struct, _, field = key.partition(".")
        cls = classes[struct]
        if not field:
            if _lib.ctypes.sizeof(cls) != int(nums[0]):
                wrong.append(f"sizeof {struct}")
            continue
        seen.add((struct, field))
        desc = getattr(cls, field)
        if (desc.offset, desc.size) != (int(nums[0]), int(nums[1])):
            wrong.append(f"{key} at {desc.offset}+{desc.size}, C {nums}")
    mirrored = {(s, f[0]) for s, c in classes.items() for f in c._fields_}
    wrong += [f"{s}.{f} not in C" for s, f in mirrored - seen]
    assert not wrong, wrong


@test("the binding loads the soname the build makes (its layouts' ABI)")
def soname():
    built = os.path.basename(os.environ["DLOCK_LIBRARY"])
    assert _lib.SONAME == built, f"binding wants {_lib.SONAME}, built {built}"


@test("Client() without the module: NotLoaded, errno ENOENT, says why")
def not_loaded():
    e = raises(dlock.NotLoaded, dlock.Client)
    assert e.errno == errno.ENOENT and "not loaded" in e.reason, e


@test("a library that cannot be loaded: Error ELIBACC naming DLOCK_LIBRARY")
def no_library():
    code = ("import dlock\ntry:\n dlock.Client()\nexcept dlock.Error as e:\n"
            " print(e.errno, e)")
    env = dict(os.environ, DLOCK_LIBRARY="/nonexistent/libdlock.so.1",
               PYTHONPATH=os.path.join(ROOT, "python"))
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert out.startswith(f"{errno.ELIBACC} ") and "DLOCK_LIBRARY" in out, out


@test("errno maps to exception classes that are also the builtin OSErrors")
def mapping():
    cases = {errno.EAGAIN: (dlock.WouldBlock, BlockingIOError),
             errno.ETIMEDOUT: (dlock.Timeout, TimeoutError),
             errno.EDEADLK: (dlock.Deadlock, dlock.Error),
             errno.EPERM: (dlock.PermissionDenied, PermissionError),
             errno.ENOENT: (dlock.NotFound, FileNotFoundError),
             errno.ENOSPC: (dlock.LimitExceeded, dlock.Error),
             errno.EDQUOT: (dlock.LimitExceeded, dlock.Error),
             errno.EINVAL: (dlock.InvalidArgument, ValueError),
             errno.EINTR: (dlock.Interrupted, InterruptedError),
             errno.EIO: (dlock.Error, OSError)}
    for err, (cls, builtin) in cases.items():
        e = dlock.errors.from_errno(-err, "why", "n")
        assert type(e) is cls and isinstance(e, builtin), (err, e)
        assert e.errno == err and e.reason == "why" and str(e) == "n: why"
    assert str(dlock.errors.from_errno(5, "why")) == "why"


@test("durations: bare numbers are seconds, units ms/s/m/h, fractions")
def durations():
    from datetime import timedelta
    good = {30: 30000, 1.5: 1500, "30": 30000, "1.5s": 1500, "250ms": 250,
            "10m": 600000, "2h": 7200000, " .5 s ": 500, "0.0001": 1,
            1e-9: 1, timedelta(milliseconds=1500): 1500, "4294967.295": 2**32 - 1,
            4294967.295: 2**32 - 1, 0.1: 100, 1 / 3: 334}
    for value, ms in good.items():
        assert dlock.to_ms(value) == ms, (value, dlock.to_ms(value), ms)
    for value in (0, -1, "0s", "", "1d", "1.5.s", "s", "-1", "4294967.296",
                  float("nan"), float("inf"), "1e3"):
        raises(ValueError, dlock.to_ms, value)
    for value in (None, True, [1], b"1s"):
        raises(TypeError, dlock.to_ms, value)
    e = raises(ValueError, dlock.to_ms, "soon", "ttl")
    assert "ttl 'soon'" in str(e), e


@test("bad arguments fail before the module is asked, naming the problem")
def validation():
    bad = [({"name": "x" * 256}, "1 to 255 bytes"),
           ({"name": ""}, "1 to 255 bytes"),
           ({"name": "a\0b"}, "NUL"),
           ({"mode": "writer"}, "mode must be"),
           ({"mode": "semaphore"}, "needs its number of permits"),
           ({"mode": "semaphore", "permits": 0}, "permits must be 1"),
           ({"permits": 3}, "semaphores only"),
           ({"ttl": 0}, "ttl must be above zero"),
           ({"ttl": "1 day"}, "not a duration"),
           ({"owner": "ops"}, "needs a TTL"),
           ({"owner": "o" * 65, "ttl": 5}, "owner string must be"),
           ({"owner": "ops", "ttl": 5, "tag": 7}, "not a tag"),
           ({"blocking": False, "timeout": 1}, "does not wait"),
           ({"timeout": -1}, "timeout must be above zero"),
           ({"tag": 2**64}, "tag must be"),
           ({"keepalive": True}, "keepalive renews a TTL")]
    for kw, words in bad:
        name = kw.pop("name", "n")
        e = raises(dlock.InvalidArgument, dlock.lock, name, **kw)
        assert e.errno == errno.EINVAL and words in e.reason, (kw, e)
    e = raises(dlock.InvalidArgument, args.value_bytes, b"v" * 1025, "n")
    assert str(e) == "n: value is longer than 1024 bytes (1025)", e
    assert args.value_bytes(None) == b"" and args.value_bytes("\u00e9") == \
        b"\xc3\xa9"
    raises(TypeError, dlock.lock, 42)
    raises(TypeError, dlock.lock, "n", tag="7")
    raises(TypeError, dlock.lock, "n", mode="semaphore", permits="3")
    # UTF-8: 85 three-byte characters are 255 bytes, 86 are too many.
    dlock.args.name_bytes("\u20ac" * 85)
    raises(dlock.InvalidArgument, dlock.args.name_bytes, "\u20ac" * 86)


@test("options reach libdlock as dlock.h's flags and fields")
def options():
    raw, o, _ = args.acquire_opts(b"n", None)
    assert raw == b"n" and o.flags == _lib.F_NO_TTL and o.ttl_ms == 0
    _, o, _ = args.acquire_opts("n", "1.5s", blocking=False)
    assert o.flags == _lib.F_TRY and o.ttl_ms == 1500 and o.wait_ms == 0
    _, o, _ = args.acquire_opts("n", 2, owner="ops", timeout=0.25)
    assert o.flags == _lib.F_DETACHED and o.owner == b"ops"
    assert o.wait_ms == 250 and o.ttl_ms == 2000
    _, o, _ = args.acquire_opts("n", 1, mode="semaphore", permits=3, tag=9)
    assert (o.mode, o.permits, o.tag) == (_lib.MODE_SEMAPHORE, 3, 9)
    _, o, _ = args.acquire_opts("n", 3, keepalive=True)
    assert o.flags == _lib.F_KEEPALIVE and o.ttl_ms == 3000
    _, o, _ = args.acquire_opts("n", 1, mode="shared")
    assert o.mode == _lib.MODE_SHARED and o.permits == 0


class FakeClient:
    """Stands in for a Client: records releases, fails them on demand."""

    def __init__(self, fail=None):
        self.released, self.fail = [], fail

    def _handle(self):
        return 1

    def release(self, raw, owner=None, tag=0):
        self.released.append(raw)
        if self.fail:
            raise self.fail
        return 0


def fake_lease(client):
    granted = _lib.Lease(token=7, count=1, ttl_ms=30000)
    return dlock.Lease(client, "n", "exclusive", granted, 30, None, 0)


@test("a with block releases on exit, also when it raised, and only once")
def context_release():
    c = FakeClient()
    with fake_lease(c) as lease:
        assert lease.token == 7 and lease.ttl == 30.0
    assert c.released == ["n"] and lease.released
    c = FakeClient()
    raises(KeyError, lambda: _raise_in(fake_lease(c), KeyError("boom")))
    assert c.released == ["n"]
    c = FakeClient()
    with fake_lease(c) as lease:
        lease.release()
    assert c.released == ["n"], c.released


def _raise_in(lease, exc):
    with lease:
        raise exc


@test("a failed release does not hide the block's exception (noted on it)")
def release_failure():
    c = FakeClient(fail=dlock.errors.from_errno(-errno.EPERM, "not yours", "n"))
    e = raises(KeyError, lambda: _raise_in(fake_lease(c), KeyError("boom")))
    assert any("not yours" in n for n in e.__notes__), e.__notes__
    raises(dlock.PermissionDenied, lambda: fake_lease(c).__exit__(None, None, None))


@test("a released lease refuses every use with LeaseReleased")
def released_lease():
    lease = fake_lease(FakeClient())
    lease.release()
    for use in (lease.release, lease.renew, lease.holder,
                lambda: lease.value, lambda: setattr(lease, "value", b"v"),
                lease.__enter__):
        e = raises(dlock.LeaseReleased, use)
        assert "released" in str(e) and "token 7" in str(e), e


@test("versions: dlock.__version__ and libdlock's match VERSION")
def versions():
    with open(os.path.join(ROOT, "VERSION")) as f:
        want = f.read().strip()
    assert dlock.__version__ == want and dlock.version() == want, want


@test("cluster endpoints: IPv4 and bracketed IPv6 parse and print back, bad ones are named")
def cluster_endpoints():
    from dlock import info
    for text in ("10.0.0.2:7400", "[fd00::2]:1", "[::ffff:10.0.0.3]:65535"):
        a = info.parse_endpoint(text)
        assert info.format_endpoint(a) == text, (text, info.format_endpoint(a))
    a = info.parse_endpoint("[FD00:0::2]:7400")
    assert (a.family, a.port, bytes(a.addr)[:2]) == (_lib.AF_INET6, 7400, b"\xfd\0")
    for text, words in (("10.0.0.2", "port missing"),
                        ("fd00::2:7400", "goes in brackets"),
                        ("[10.0.0.2]:7400", "not an IPv6 address"),
                        ("node2:7400", "names are not resolved"),
                        ("10.0.0.2:0", "not a port"),
                        ("10.0.0.2:65536", "not a port"),
                        ("10.0.0.2:x", "not a port")):
        e = raises(dlock.InvalidArgument, info.parse_endpoint, text)
        assert e.errno == errno.EINVAL and words in e.reason, (text, e)


@test("a Cluster from libdlock's struct: role, leader, listen, peers, counters")
def cluster_from_c():
    from dlock import info
    c = _lib.Cluster(id=3, role=_lib.ROLE_FOLLOWER, leader=1, term=7, commit=9)
    c.listen.port = 7400
    peers = (_lib.ClusterPeer * 2)()
    peers[0].id, peers[0].endpoint = 1, info.parse_endpoint("[fd00::1]:7401")
    peers[0].last_contact_ms, peers[0].lag, peers[0].tx = 1500, -1, 5
    peers[1].id, peers[1].endpoint = 2, info.parse_endpoint("10.0.0.2:7402")
    peers[1].last_contact_ms, peers[1].lag, peers[1].rx = -1, 4, 6
    c.n_peers, c.peers = 2, peers
    got = dlock.Cluster.from_c(c)
    assert got == dlock.Cluster(3, "follower", 1, 7, 9, 7400, None, [
        dlock.ClusterPeer(1, "[fd00::1]:7401", 1.5, None, 5, 0, 0),
        dlock.ClusterPeer(2, "10.0.0.2:7402", None, 4, 0, 6, 0)]), got
    alone = dlock.Cluster.from_c(_lib.Cluster())
    assert (alone.id, alone.role, alone.leader, alone.peers) == \
        (0, "none", None, []), alone


@test("the cluster calls on a libdlock without them: Error ENOSYS naming LIBDLOCK_1.1")
def cluster_old_library():
    e = raises(dlock.Error, _lib.require, object(), "dlock_get_cluster")
    assert e.errno == errno.ENOSYS and "LIBDLOCK_1.1" in e.reason, e
    assert _lib.require(_lib.get(), "dlock_get_cluster")


@test("pip installs python/ offline into a prefix, and the copy imports")
def install():
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        # A copy: a build in place would leave build/ and egg-info behind.
        subprocess.run(["cp", "-r", os.path.join(ROOT, "python"), src],
                       check=True)
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q",
             "--no-build-isolation", "--no-index", "--disable-pip-version-check",
             "--root-user-action=ignore", "--prefix",
             os.path.join(tmp, "prefix"), src], capture_output=True, text=True)
        assert pip.returncode == 0, pip.stdout + pip.stderr
        site = subprocess.run(
            [sys.executable, "-c", "import sysconfig, sys; print(sysconfig."
             "get_path('purelib', vars={'base': sys.argv[1]}))",
             os.path.join(tmp, "prefix")],
            check=True, capture_output=True, text=True).stdout.strip()
        lib = os.path.abspath(os.environ["DLOCK_LIBRARY"])
        run = subprocess.run(
            [sys.executable, "-c", "import dlock; print(dlock.__file__, "
             "dlock.version())"], cwd=tmp, capture_output=True, text=True,
            env=dict(os.environ, PYTHONPATH=site, DLOCK_LIBRARY=lib))
        out = run.stdout + run.stderr
        assert out.startswith(site) and out.split()[1] == dlock.__version__, out


sys.exit(run())
