"""Exceptions of the comm layer; messages say what to do."""


class RedisUnavailable(Exception):
    """Redis cannot be reached or started."""


class SessionLocked(Exception):
    """The session is already open in another process."""
