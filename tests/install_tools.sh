#!/bin/sh
# The system tools the tests drive, installed when missing: Debian's chromium and chromium-driver (the browser tests,
# tests/test_plot.py), hdf5-tools (h5ls -r on the files, tests/test_nexus_layout.py) and tango-test (Debian's C++ TangoTest
# server, a Tango server that others wrote, which the counter tests drive; installing it writes /etc/tangorc).
command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v h5ls >/dev/null 2>&1 && [ -x /usr/lib/tango/TangoTest ] && exit 0
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
$SUDO apt-get update -q >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver hdf5-tools tango-test >/dev/null
