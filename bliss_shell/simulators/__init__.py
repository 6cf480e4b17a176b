"""Tango device servers of our own that simulate a beamline: motors, counters, Lima, a counter card, an MCA.

Run one server with ``python -m bliss_shell.simulators INSTANCE [tango options]``.
The attribute and command names are the ones real devices use, so a real server can
replace a simulator without changing the clients.
"""
