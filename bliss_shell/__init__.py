"""bliss_shell: a BLISS-compatible experiment-control shell for synchrotron beamlines."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bliss_shell")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
