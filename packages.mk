# SPDX-License-Identifier: GPL-2.0
# make deb: the Debian packages (debian/), built with dpkg-buildpackage from
# a copy of the tree (its own build/ is left alone) into build/deb/.
# make check-packages: installs them in the VM and checks autoload, a
# pkg-config build, and that purging leaves nothing (tests/selftests/packages.sh).
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/dlock-$(VERSION)

deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	if [ -e .git ]; then git ls-files -co --exclude-standard -z; \
	else find . -path ./$(BUILD) -prune -o -path ./.cache -prune -o -type f -print0; fi | \
		tar --null -T - --ignore-failed-read -cf - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	ls $(DEB_DIR)/*.deb

.PHONY: deb

# DKMS builds the module from dlock-dkms's own sources, on the host (the
# guest would take minutes under emulation), in a DKMS tree of its own
# under build/deb/dkms: this is the `dkms build` a machine runs at install.
DKMS_TREE := $(DEB_DIR)/dkms
dkms-build: deb
	rm -rf $(DKMS_TREE)
	mkdir -p $(DKMS_TREE)/src $(DKMS_TREE)/tree $(DKMS_TREE)/inst
	dpkg-deb -x $(DEB_DIR)/dlock-dkms_$(VERSION)_all.deb $(DKMS_TREE)/src
	dkms add -m dlock -v $(VERSION) --sourcetree $(CURDIR)/$(DKMS_TREE)/src/usr/src \
		--dkmstree $(CURDIR)/$(DKMS_TREE)/tree
	dkms build -m dlock -v $(VERSION) -k $(KREL) --sourcetree $(CURDIR)/$(DKMS_TREE)/src/usr/src \
		--dkmstree $(CURDIR)/$(DKMS_TREE)/tree --installtree $(CURDIR)/$(DKMS_TREE)/inst

check-packages: dkms-build
	@tests/host/test-lintian.sh $(DEB_DIR)
	@$(VM_RUN) --timeout 900 -- env DLOCK_DEB_DIR=$(CURDIR)/$(DEB_DIR) \
		DLOCK_DKMS_BUILT=$(CURDIR)/$(DKMS_TREE)/tree/dlock/$(VERSION)/$(KREL)/$$(uname -m) \
		tests/selftests/packages.sh

.PHONY: dkms-build check-packages
