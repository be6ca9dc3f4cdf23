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
		tar --null -T - -cf - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	ls $(DEB_DIR)/*.deb

.PHONY: deb
