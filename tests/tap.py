# SPDX-License-Identifier: GPL-2.0
"""TAP for the Python test suites: @test("description") registers a
function, run() calls them in order and prints "ok N - ..." / "not ok N -
..." (with the failure as # comments) and the plan; a test fails by raising
(assert)."""
import sys
import traceback

_tests = []


def test(desc):
    def register(fn):
        _tests.append((desc, fn))
        return fn
    return register


def run():
    """Runs every registered test; returns the exit status (1 if any
    failed)."""
    failed = 0
    for n, (desc, fn) in enumerate(_tests, 1):
        try:
            fn()
            print(f"ok {n} - {desc}", flush=True)
        except BaseException as e:  # a KeyboardInterrupt is a failure too
            failed += 1
            print(f"not ok {n} - {desc}", flush=True)
            for line in traceback.format_exception(e):
                for part in line.rstrip("\n").split("\n"):
                    print(f"# {part}", flush=True)
            if isinstance(e, KeyboardInterrupt):
                break
    print(f"1..{len(_tests)}", flush=True)
    return 1 if failed else 0


def raises(cls, fn, *args, **kw):
    """The exception of class @cls that fn(*args, **kw) raises; fails the
    test when it raises nothing or something else."""
    try:
        fn(*args, **kw)
    except cls as e:
        return e
    except BaseException as e:
        raise AssertionError(f"expected {cls.__name__}, got {e!r}") from e
    raise AssertionError(f"expected {cls.__name__}, nothing was raised")


sys.stdout.reconfigure(line_buffering=True)
