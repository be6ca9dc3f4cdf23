# SPDX-License-Identifier: GPL-2.0
# make install / make uninstall.  Variables (all honoured by both):
#   DESTDIR    staging root, prepended to every path written
#   PREFIX     /usr/local
#   LIBDIR     $(PREFIX)/lib/<multiarch> on Debian (gcc -print-multiarch),
#              else $(PREFIX)/lib; pkg-config and ld.so look there on Debian
#   INCLUDEDIR $(PREFIX)/include
#   SBINDIR, MANDIR, BASHCOMPDIR  under PREFIX
#   SYSCONFDIR /etc, whatever PREFIX: modprobe reads /etc/modprobe.d only
# The module goes to /lib/modules/$(KREL)/updates/ (not under PREFIX:
# modprobe looks nowhere else), then depmod runs on $(DESTDIR).  The
# commented modprobe.d example is installed only where none exists, and
# removed only while unchanged: it is the administrator's file.
#
# Headers: <dlock.h> (libdlock) in INCLUDEDIR, and the uapi header, a copy
# of the ABI the module speaks, in INCLUDEDIR/dlock/linux/dlock.h, never in
# INCLUDEDIR/linux, which belongs to linux-libc-dev.  dlock.pc's Cflags add
# -I$(INCLUDEDIR)/dlock so <linux/dlock.h> resolves there, as libdrm does
# for its copy of the drm uapi headers.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
LIBDIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
INCLUDEDIR ?= $(PREFIX)/include
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR ?= /etc
MODDIR ?= /lib/modules/$(KREL)/updates
DEPMOD ?= /sbin/depmod

# dlock.pc for these paths (build/dlock.pc, for uses from the tree, too).
DLOCK_PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|'

MAN3 := $(wildcard userspace/man/*.3)
MAN8 := $(wildcard userspace/man/*.8)

# Every file install writes (the module's name is kbuild's: it may be
# compressed, .ko.xz, when the kernel's config says so).
INSTALLED := $(INCLUDEDIR)/dlock.h $(INCLUDEDIR)/dlock/linux/dlock.h \
	$(LIBDIR)/libdlock.a $(LIBDIR)/$(LIB_SONAME) $(LIBDIR)/libdlock.so \
	$(LIBDIR)/pkgconfig/dlock.pc $(SBINDIR)/dlockctl \
	$(MAN3:userspace/man/%=$(MANDIR)/man3/%) \
	$(MAN8:userspace/man/%=$(MANDIR)/man8/%) \
	$(BASHCOMPDIR)/dlockctl

install: install-module install-userspace

install-userspace: userspace
	install -D -m 0644 userspace/lib/dlock.h $(DESTDIR)$(INCLUDEDIR)/dlock.h
	install -D -m 0644 uapi/linux/dlock.h $(DESTDIR)$(INCLUDEDIR)/dlock/linux/dlock.h
	install -D -m 0644 $(BUILD)/libdlock.a $(DESTDIR)$(LIBDIR)/libdlock.a
	install -D -m 0644 $(BUILD)/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libdlock.so
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig
	$(DLOCK_PC_SED) userspace/lib/dlock.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/dlock.pc
	install -D -m 0755 $(DLOCKCTL) $(DESTDIR)$(SBINDIR)/dlockctl
	install -d $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8
	$(if $(MAN3),install -m 0644 $(MAN3) $(DESTDIR)$(MANDIR)/man3/)
	$(if $(MAN8),install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	install -D -m 0644 userspace/dlockctl/dlockctl.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/dlockctl
	test -e $(DESTDIR)$(SYSCONFDIR)/modprobe.d/dlock.conf || install -D -m 0644 \
		userspace/modprobe/dlock.conf $(DESTDIR)$(SYSCONFDIR)/modprobe.d/dlock.conf
	$(if $(DESTDIR),,ldconfig)

# kbuild's modules_install puts dlock.ko under INSTALL_MOD_PATH; depmod -b
# indexes that root (the running system's when DESTDIR is empty).
install-module: module
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(dir $(KO)) INSTALL_MOD_PATH=$(DESTDIR) \
		INSTALL_MOD_DIR=updates DEPMOD=true modules_install
	$(DEPMOD) $(if $(DESTDIR),-b $(DESTDIR)) $(KREL)

uninstall: uninstall-userspace uninstall-module

uninstall-userspace:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/dlock/linux $(DESTDIR)$(INCLUDEDIR)/dlock
	! cmp -s userspace/modprobe/dlock.conf $(DESTDIR)$(SYSCONFDIR)/modprobe.d/dlock.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/modprobe.d/dlock.conf
	$(if $(DESTDIR),,ldconfig)

# depmod's indexes in a DESTDIR are install's own output: once no module is
# left there they go too, so that uninstall leaves no file behind.  Only
# dlock's own directories are removed: the others may be shared.
uninstall-module:
	rm -f $(DESTDIR)$(MODDIR)/dlock.ko $(DESTDIR)$(MODDIR)/dlock.ko.*
	$(DEPMOD) $(if $(DESTDIR),-b $(DESTDIR)) $(KREL)
	$(if $(DESTDIR),[ -n "$$(find $(DESTDIR)/lib/modules/$(KREL) -name '*.ko*')" ] || \
		rm -f $(DESTDIR)/lib/modules/$(KREL)/modules.*)

.PHONY: install install-userspace install-module uninstall uninstall-userspace \
	uninstall-module

# The module's sources as DKMS builds them (dkms.conf at the top, the
# layout of this tree): /usr/src/dlock-$(VERSION), whatever PREFIX.
DKMS_SRC := /usr/src/dlock-$(VERSION)
DKMS_FILES := dkms.conf VERSION uapi/linux/dlock.h kmod/Kbuild kmod/Makefile \
	$(filter-out %.mod.c,$(wildcard kmod/*.c kmod/*.h))

install-dkms:
	for f in $(DKMS_FILES); do \
		install -D -m 0644 $$f $(DESTDIR)$(DKMS_SRC)/$$f || exit; done

uninstall-dkms:
	rm -rf $(DESTDIR)$(DKMS_SRC)

.PHONY: install-dkms uninstall-dkms
