"""The one exception type the config layer raises."""


class ConfigError(Exception):
    """A problem in the beamline configuration; the message names the file and line to fix."""
