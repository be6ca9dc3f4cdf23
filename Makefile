# SPDX-License-Identifier: GPL-2.0
# dlock top-level build.
#   make            build dlock.ko, libdlock and dlockctl
#   make check      run every test: host suites, then the in-guest suite
#   make demo       boot the test VM and show dlock answering
#   make vm-run CMD='dlockctl status'   run one command in the VM
#   make vm-shell   interactive VM with dlock.ko loaded
VERSION := $(shell cat VERSION)
CC ?= gcc
BUILD := build
PREFIX ?= /usr/local
KDIR ?= $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1)

HOST_CFLAGS ?= -O2 -g
WARN_CFLAGS := -Wall -Wextra -Werror -std=gnu11
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
US_CFLAGS := $(HOST_CFLAGS) $(WARN_CFLAGS) -Iuapi -Iuserspace/lib $(NL_CFLAGS) \
	-DDLOCK_LIB_VERSION='"$(VERSION)"' -DDLOCKCTL_VERSION='"$(VERSION)"'

LIB_SRCS := userspace/lib/dlock.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_PIC_OBJS := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
LIB_SONAME := libdlock.so.0
LIBS_OUT := $(BUILD)/libdlock.a $(BUILD)/$(LIB_SONAME) $(BUILD)/libdlock.so $(BUILD)/dlock.pc
DLOCKCTL := $(BUILD)/dlockctl
KO := kmod/dlock.ko

# Suites run by `make check`, in order; each has a target check-NAME that
# prints TAP.  Fragments of other parts of the tree append to this list.
CHECK_SUITES := host lint

all: module userspace

module: $(KO)

$(KO): $(wildcard kmod/*.c kmod/*.h) uapi/linux/dlock.h kmod/Kbuild VERSION
	$(MAKE) -C kmod KDIR=$(KDIR)

userspace: $(LIBS_OUT) $(DLOCKCTL)

$(BUILD)/%.o: %.c $(wildcard userspace/lib/*.h userspace/dlockctl/*.h) uapi/linux/dlock.h VERSION
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(wildcard userspace/lib/*.h) uapi/linux/dlock.h VERSION
	@mkdir -p $(dir $@)
	$(CC) $(US_CFLAGS) -fPIC -fvisibility=default -c -o $@ $<

$(BUILD)/libdlock.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(BUILD)/$(LIB_SONAME): $(LIB_PIC_OBJS)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -o $@ $^ $(NL_LIBS)

$(BUILD)/libdlock.so: $(BUILD)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

$(BUILD)/dlock.pc: userspace/lib/dlock.pc.in VERSION
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

DLOCKCTL_OBJS := $(BUILD)/userspace/dlockctl/dlockctl.o \
	$(BUILD)/userspace/dlockctl/output.o

$(DLOCKCTL): $(DLOCKCTL_OBJS) $(BUILD)/libdlock.a
	$(CC) -o $@ $^ $(NL_LIBS)

install: userspace
	install -D -m 0644 userspace/lib/dlock.h $(DESTDIR)$(PREFIX)/include/dlock.h
	install -D -m 0644 uapi/linux/dlock.h $(DESTDIR)$(PREFIX)/include/linux/dlock.h
	install -D -m 0644 $(BUILD)/libdlock.a $(DESTDIR)$(PREFIX)/lib/libdlock.a
	install -D -m 0755 $(BUILD)/$(LIB_SONAME) $(DESTDIR)$(PREFIX)/lib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(PREFIX)/lib/libdlock.so
	install -D -m 0644 $(BUILD)/dlock.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/dlock.pc
	install -D -m 0755 $(DLOCKCTL) $(DESTDIR)$(PREFIX)/sbin/dlockctl
	install -D -m 0644 userspace/man/dlockctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/dlockctl.8
	install -D -m 0644 userspace/man/libdlock.3 $(DESTDIR)$(PREFIX)/share/man/man3/libdlock.3
	install -D -m 0644 userspace/dlockctl/dlockctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/dlockctl

include tests/host/host.mk
include tests/selftests/selftests.mk
-include tests/host/table.mk
-include tests/sim/sim.mk
-include tests/bench/bench.mk

check-lint: $(KSFT_DIR)/kselftest_harness.h
	@KSFT_DIR=$(KSFT_DIR) KDIR=$(KDIR) tests/lint

# The in-guest suite runs last: it is the slowest.
CHECK_SUITES += vm

check: all
	@tests/run-check $(CHECK_SUITES)

VM_RUN := tests/vm/run

vm-run: all
	$(VM_RUN) --ko $(KO) -- env PATH="$(CURDIR)/$(BUILD):$$PATH" sh -c '$(CMD)'

vm-shell: all
	$(VM_RUN) --ko $(KO) --shell

demo: all
	$(VM_RUN) --ko $(KO) -- tests/demo.sh

clean:
	-$(MAKE) -C kmod clean KDIR=$(KDIR)
	rm -rf $(BUILD) tests/out

.PHONY: all module userspace install check check-lint vm-run vm-shell demo clean
