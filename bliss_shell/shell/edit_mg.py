"""``edit_mg``: tick the counters of a measurement group in a terminal dialog, as BLISS's ``edit_mg``.

BLISS opens a dialog of check boxes (its prompt_toolkit widgets); here it is prompt_toolkit's
check-box list, in the terminal: arrows move, Space or Enter ticks or unticks, Tab goes to
``Ok``/``Cancel``; Escape or Ctrl-C cancels. The dialog runs on the prompt's own event loop,
so scans' background work and the live display keep running while it is open.

Examples
--------
Without a terminal (a script run by ``bliss --script``), there is no dialog:

>>> edit_mg(MG1)
Traceback (most recent call last):
...
RuntimeError: edit_mg: the dialog needs a terminal; here use MG1.enable(...) and MG1.disable(...)
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Any

import gevent.event

from bliss_shell.controllers import MeasurementGroup
from bliss_shell.scanning import current

if TYPE_CHECKING:  # prompt_toolkit's dialogs are loaded when one opens, not with the session
    from prompt_toolkit.application import Application
    from prompt_toolkit.key_binding import KeyPressEvent


def edit_mg(mg: MeasurementGroup | None = None) -> None:
    """Enable and disable the counters of a measurement group by ticking them in a dialog.

    What is ticked when ``Ok`` is chosen is enabled, the rest disabled, as ``MG1.enable`` and
    ``MG1.disable`` do (kept for the session's next shells); ``Cancel`` changes nothing.

    Parameters
    ----------
    mg : MeasurementGroup, optional
        The group; default: the active one (``ACTIVE_MG``).

    Raises
    ------
    TypeError
        ``mg`` is not a measurement group.
    RuntimeError
        The session has no measurement group, or there is no terminal to show the dialog in.

    Examples
    --------
    >>> edit_mg(MG1)  # doctest: +SKIP
    >>> edit_mg()  # the active group  # doctest: +SKIP
    """
    group = current().active_mg if mg is None else mg
    if group is None:
        raise RuntimeError("edit_mg: this session has no measurement group; define one in the config (class MeasurementGroup)")
    if not isinstance(group, MeasurementGroup):
        raise TypeError(f"edit_mg: {getattr(group, 'name', group)!r} is not a measurement group; lsmg() lists them")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise RuntimeError(f"edit_mg: the dialog needs a terminal; here use {group.name}.enable(...) and "
                           f"{group.name}.disable(...)")  # fmt: skip
    from prompt_toolkit.shortcuts import checkboxlist_dialog

    available, enabled = group.available, group.enabled
    dialog = checkboxlist_dialog(
        title=f"Measurement group {group.name}: enable / disable counters",
        text="Arrows: move   Space: tick / untick   Tab: to Ok / Cancel   Escape: cancel",
        values=[(name, name) for name in available],
        default_values=enabled,
    )
    ticked = _run(_cancellable(dialog))
    if ticked is None:
        print(f"edit_mg: cancelled, {group.name} unchanged")
        return
    to_enable = [name for name in available if name in ticked and name not in enabled]
    to_disable = [name for name in available if name not in ticked and name in enabled]
    if to_enable:
        group.enable(*to_enable)
    if to_disable:
        group.disable(*to_disable)


def _cancellable(dialog: Application[Any]) -> Application[Any]:
    """Escape and Ctrl-C cancel the dialog (the terminal is raw while it shows: Ctrl-C is a key there)."""
    from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

    keys = KeyBindings()

    @keys.add("escape", eager=True)
    @keys.add("c-c")
    def _(event: KeyPressEvent) -> None:
        event.app.exit(result=None)

    dialog.key_bindings = merge_key_bindings([dialog.key_bindings or KeyBindings(), keys])
    return dialog


def _run(dialog: Application[Any]) -> Any:
    """The dialog's result; on the shell's running prompt loop when there is one (this command is a greenlet of it)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no prompt loop (a script in a terminal): a loop of its own
        return dialog.run(handle_sigint=False)
    ended: gevent.event.AsyncResult = gevent.event.AsyncResult()
    task = loop.create_task(dialog.run_async(handle_sigint=False))  # the shell keeps its own SIGINT handler
    task.add_done_callback(ended.set)
    try:
        return ended.get().result()
    except BaseException:  # Ctrl-C from outside (SIGINT to the shell): the dialog goes too
        if dialog.is_running:
            dialog.exit(result=None)
        raise
