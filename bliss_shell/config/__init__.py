"""YAML beamline configuration (BLISS beacon conventions, read from local files).

Lowest layer: imports nothing else of bliss_shell. See docs/config.md.
"""

from .errors import ConfigError
from .session import ObjectUnavailable, Session, Unavailable
from .static import Config, ConfigNode, ConfigRoot, config_roots

__all__ = ["Config", "ConfigError", "ConfigNode", "ConfigRoot", "ObjectUnavailable", "Session", "Unavailable", "config_roots"]
