"""Facts about local processes."""

import os


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def pid_runs(pid: int, *words: str) -> bool:
    """Whether process ``pid`` exists and its command line holds every one of ``words``.

    A pid read from a file may have been reused by another program since, which must never be signalled.
    """
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            arguments = cmdline.read().decode(errors="replace").split("\0")
    except OSError:
        return False
    return all(any(word in argument for argument in arguments) for word in words)
