# SPDX-License-Identifier: GPL-2.0
# dlock top-level build.
#   make            build dlock.ko, libdlock and dlockctl
#   make check      run every test: host suites, then the in-guest suite
#   make demo       boot the test VM and show dlock answering
#   make vm-run CMD='dlockctl status'   run one command in the VM
#   make vm-shell   interactive VM with dlock.ko loaded
#   make check-kernels   the in-guest suites on every supported kernel (KERNELS)
#   make check-debug     the in-guest suites on a debug kernel (KASAN, lockdep, ...)
#   make check-all       what CI runs: check, the other kernels, the debug lane,
#                        the Debian packages (check-packages)
#   make install, make deb, make check-packages: see install.mk, packages.mk
# KVER=6.12 (a series or a full release) builds for and boots another
# installed kernel than Debian 12's default 6.1.
VERSION := $(shell cat VERSION)
CC ?= gcc
BUILD := build
PREFIX ?= /usr/local
# The README's two commands work on a fresh machine: they install what is
# missing first (a single dpkg-query when nothing is), before the kernel
# release below is looked up.
ifneq ($(filter demo check,$(MAKECMDGOALS)),)
ifneq ($(shell tests/install-deps >&2 && echo ok),ok)
$(error tests/install-deps failed)
endif
endif
# The kernel to build for and boot.  Not "the newest installed headers":
# with Debian 12's 6.12 headers beside 6.1 that would move every default
# build to 6.12.  tests/vm/kver picks 6.1 unless KVER (or DLOCK_KVER) says.
KREL := $(shell tests/vm/kver $(KVER) 2>/dev/null)
ifneq ($(KVER),)
ifeq ($(KREL),)
$(error KVER=$(KVER): no installed linux-headers package matches (tests/install-deps))
endif
# The VM boots the kernel the module is built for.
export DLOCK_KVER := $(KREL)
endif
KDIR ?= $(if $(KREL),/lib/modules/$(KREL)/build)
# Every kernel check-kernels tests, as series (see tests/vm/kver).
KERNELS ?= 6.1 6.12

# Debian's interpreter (its setuptools, pip and wheel are what the Python
# binding is built with; tests/install-deps), not whatever python3 is first
# in PATH.
PYTHON ?= $(or $(wildcard /usr/bin/python3),python3)
HOST_CFLAGS ?= -O2 -g
WARN_CFLAGS := -Wall -Wextra -Werror -std=gnu11
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
US_CFLAGS := $(HOST_CFLAGS) $(WARN_CFLAGS) -Iuapi -Iuserspace/lib $(NL_CFLAGS) \
	-DDLOCK_LIB_VERSION='"$(VERSION)"' -DDLOCKCTL_VERSION='"$(VERSION)"'

LIB_SRCS := userspace/lib/dlock.c
LIB_SRCS += userspace/lib/handle.c userspace/lib/acquire.c userspace/lib/inspect.c \
	userspace/lib/config.c userspace/lib/keepalive.c
LIB_SRCS += userspace/lib/elect.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_PIC_OBJS := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
LIB_SONAME := libdlock.so.1
LIBS_OUT := $(BUILD)/libdlock.a $(BUILD)/$(LIB_SONAME) $(BUILD)/libdlock.so $(BUILD)/dlock.pc
DLOCKCTL := $(BUILD)/dlockctl
KO := kmod/dlock.ko
KDEFAULT := $(shell env -u DLOCK_KVER tests/vm/kver 2>/dev/null)
ifneq ($(KREL),$(KDEFAULT))
# Another kernel's module is built in a copy of the sources, so that
# kmod/dlock.ko, the default kernel's, is never overwritten by it.
KO := $(BUILD)/kmod-$(KREL)/kmod/dlock.ko
endif
KO_SRCS := $(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h)) kmod/Kbuild kmod/Makefile \
	uapi/linux/dlock.h VERSION

# Suites run by `make check`, in order; each has a target check-NAME that
# prints TAP.  Fragments of other parts of the tree append to this list.
CHECK_SUITES := host lint

all: module userspace

module: $(KO)

kmod/dlock.ko: $(KO_SRCS)
	$(MAKE) -C kmod KDIR=$(KDIR)

# Copies keep their time stamps, so kbuild rebuilds only what changed.
$(BUILD)/kmod-%/kmod/dlock.ko: $(KO_SRCS)
	@mkdir -p $(BUILD)/kmod-$*/kmod $(BUILD)/kmod-$*/uapi/linux
	@for f in $^; do cmp -s $$f $(BUILD)/kmod-$*/$$f || cp -p $$f $(BUILD)/kmod-$*/$$f; done
	$(MAKE) -C $(BUILD)/kmod-$*/kmod KDIR=$(KDIR)

userspace: $(LIBS_OUT) $(DLOCKCTL)

$(BUILD)/%.o: %.c $(wildcard userspace/lib/*.h userspace/dlockctl/*.h) uapi/linux/dlock.h VERSION
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(wildcard userspace/lib/*.h) uapi/linux/dlock.h VERSION
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -fPIC -fvisibility=default -c -o $@ $<

$(BUILD)/libdlock.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/$(LIB_SONAME): $(LIB_PIC_OBJS) userspace/lib/libdlock.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script,userspace/lib/libdlock.map -o $@ $(LIB_PIC_OBJS) $(NL_LIBS)

$(BUILD)/libdlock.so: $(BUILD)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

$(BUILD)/dlock.pc: userspace/lib/dlock.pc.in VERSION
	$(DLOCK_PC_SED) $< > $@

DLOCKCTL_OBJS := $(BUILD)/userspace/dlockctl/dlockctl.o \
	$(BUILD)/userspace/dlockctl/output.o \
	$(patsubst %.c,$(BUILD)/%.o,$(filter-out %/dlockctl.c %/output.c,\
		$(wildcard userspace/dlockctl/*.c)))

$(DLOCKCTL): $(DLOCKCTL_OBJS) $(BUILD)/libdlock.a
	$(CC) $(LDFLAGS) -o $@ $^ $(NL_LIBS)

include install.mk
include packages.mk

# The Python binding (python/, pure Python over libdlock.so.N): a wheel in
# build/python, or installed into PYTHON_SITE (under DESTDIR), offline.
# Debian's interpreter reads /usr/lib/python3/dist-packages and
# /usr/local/lib/python3.N/dist-packages; pip --prefix would add a "local/"
# of its own under Debian, hence --target.
PIP = $(PYTHON) -m pip --disable-pip-version-check
PIP_OFFLINE := --no-build-isolation --no-index --no-deps
PY_VER = $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
PYTHON_SITE ?= $(if $(filter /usr,$(PREFIX)),/usr/lib/python3/dist-packages,$(PREFIX)/lib/python$(PY_VER)/dist-packages)

python:
	$(PIP) wheel -q $(PIP_OFFLINE) -w $(BUILD)/python ./python

install-python:
	$(PIP) install -q $(PIP_OFFLINE) --root-user-action=ignore \
		--upgrade --target $(DESTDIR)$(PYTHON_SITE) ./python

.PHONY: python install-python

include tests/host/host.mk
include tests/selftests/selftests.mk
-include tests/host/table.mk
-include tests/sim/sim.mk
-include tests/bench/bench.mk
-include tests/host/seal.mk

check-lint: $(KSFT_DIR)/kselftest_harness.h
	@KSFT_DIR=$(KSFT_DIR) KDIR=$(KDIR) tests/lint

# The in-guest suite runs last: it is the slowest.
CHECK_SUITES += vm

check: all
	@tests/run-check $(CHECK_SUITES)

# Each kernel of KERNELS: W=1/sparse/checkpatch (lint) and the in-guest
# suite, each booting that kernel once; the closing line counts them all.
check-kernels: all
	@tests/run-check $(foreach k,$(KERNELS),lint-$(k) vm-$(k))

check-lint-% check-vm-%:
	@$(MAKE) -s --no-print-directory $(if $(findstring check-lint-,$@),check-lint,check-vm) KVER=$*

# What CI runs: make check's suites, the other kernels' (the default one's
# are in make check already) and the debug lane, with one closing line.
KDEFAULT_SERIES = $(word 1,$(subst ., ,$(KDEFAULT))).$(word 2,$(subst ., ,$(KDEFAULT)))
check-all: all
	@tests/run-check $(CHECK_SUITES) \
		$(foreach k,$(filter-out $(KDEFAULT_SERIES),$(KERNELS)),lint-$(k) vm-$(k)) \
		debug-vm packages

# The debug lane: a kernel of our own with KASAN, lockdep, kmemleak, ...
# (built once, cached outside the tree; see tests/debug-kernel/README.md).
check-debug: all
	@tests/run-check debug-vm

check-debug-vm: all selftests $(BENCH_BIN) $(BUILD)/debug-kernel/failnth
	@tests/debug-kernel/check

$(BUILD)/debug-kernel/failnth: tests/debug-kernel/failnth.c tests/tap.h \
		tests/selftests/lockreq.h tests/selftests/nlraw.h uapi/linux/dlock.h
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(WARN_CFLAGS) -Iuapi -o $@ $<

VM_RUN := tests/vm/run

vm-run: all
	$(VM_RUN) --ko $(KO) -- env PATH="$(CURDIR)/$(BUILD):$$PATH" sh -c '$(CMD)'

vm-shell: all
	$(VM_RUN) --ko $(KO) --shell

demo: all
	$(VM_RUN) --ko $(KO) -- tests/demo.sh

clean:
	-$(MAKE) -C kmod clean KDIR=$(KDIR)
	rm -rf $(BUILD) tests/out python/build python/dlock.egg-info

.PHONY: all module userspace install check check-lint vm-run vm-shell demo clean \
	check-kernels check-all check-debug check-debug-vm
