"""YAML beamline configuration (BLISS beacon conventions, read from local files).

Lowest layer: imports nothing else of bliss_shell. See docs/config.md.
"""

from .errors import ConfigError
from .session import Session
from .static import Config, ConfigNode, ConfigRoot, config_roots

__all__ = ["Config", "ConfigError", "ConfigNode", "ConfigRoot", "Session", "config_roots"]
