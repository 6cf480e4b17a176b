"""Drive the real ``bliss`` shell in a pseudo-terminal and read its screen like a person.

pexpect gives the pseudo-terminal; pyte renders what the shell prints into the rows
and columns a user would see. When the expected text does not show up in time, the
watchdog asks the shell for its greenlets (SIGUSR1) so the failure says where it hung.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pyte

BLISS = str(Path(sys.executable).parent / "bliss")
ROWS, COLUMNS = 50, 140


def run_bliss(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``bliss`` without a terminal, as a script or a cron job would."""
    return subprocess.run([BLISS, *args], env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


class Terminal:
    """``bliss`` with ``args`` in a terminal, as the foreground job of a user's shell: Ctrl-C has its default action
    (whatever the tests were started with). ``sigint_ignored`` starts it as a background job of a script is started
    (``sh -c 'bliss ... &'``), with SIGINT ignored."""

    def __init__(self, args: list[str], env: dict[str, str], sigint_ignored: bool = False):
        disposition = signal.SIG_IGN if sigint_ignored else signal.SIG_DFL
        self.child = pexpect.spawn(BLISS, args, env=env, dimensions=(ROWS, COLUMNS),
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, disposition))  # fmt: skip
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self._stream = pyte.ByteStream(self.screen)
        self.transcript = bytearray()

    @property
    def pid(self) -> int:
        return self.child.pid

    def _pump(self, timeout: float) -> None:
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except pexpect.TIMEOUT:
            return
        except pexpect.EOF:
            time.sleep(timeout)
            return
        self.transcript += data
        self._stream.feed(data)

    def text(self) -> str:
        """The screen as it looks now, trailing blanks removed."""
        return "\n".join(line.rstrip() for line in self.screen.display).rstrip()

    def wait_for(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern, re.MULTILINE)
        while True:
            found = regex.search(self.text())
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on screen after {timeout} s:\n{self.text()}\n{self.watchdog()}")
            self._pump(0.05)

    def watchdog(self) -> str:
        """The shell's greenlets, dumped on SIGUSR1, or why there are none."""
        if not self.child.isalive():
            return f"(the shell exited with status {self.child.exitstatus})"
        os.kill(self.child.pid, signal.SIGUSR1)
        end = time.monotonic() + 2
        while time.monotonic() < end:
            self._pump(0.1)
        dump = self.transcript.decode(errors="replace")
        start = dump.rfind("=== bliss_shell greenlets")
        return dump[start:] if start >= 0 else "(no greenlet dump)"

    def prompt(self, number: int, label: str = "DEMO", timeout: float = 15.0) -> None:
        self.wait_for(rf"^{label} \[{number}\]: *$", timeout)

    def type(self, text: str) -> None:
        self.child.send(text)

    def enter(self, command: str, timeout: float = 15.0) -> None:
        """Type a command and press Enter (as its own key, once the typed text shows on the screen)."""
        echoed = len(self.transcript)
        self.child.send(command)
        deadline = time.monotonic() + timeout
        while command and len(self.transcript) == echoed:  # the shell has drawn something since: the echo
            if time.monotonic() > deadline:
                raise AssertionError(f"{command!r} was not echoed after {timeout} s:\n{self.text()}\n{self.watchdog()}")
            self._pump(0.05)
        self.child.send("\r")

    def interrupt(self) -> None:
        self.child.sendintr()

    def wait_exit(self, timeout: float = 15.0) -> int:
        deadline = time.monotonic() + timeout
        while self.child.isalive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the shell did not exit:\n{self.text()}\n{self.watchdog()}")
            self._pump(0.05)
        self.child.wait()
        return self.child.exitstatus

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
