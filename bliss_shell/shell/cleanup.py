"""``cleanup`` and ``error_cleanup``: what must happen when a block of a script ends, as BLISS's context managers.

``with cleanup(roby, close_shutter):`` runs ``close_shutter()`` and stops ``roby`` when the block
ends, however it ends (an error, Ctrl-C); ``error_cleanup`` only when it ends by an error or Ctrl-C.
``restore_list`` also puts motors' settings back, as BLISS's ``cleanup_axis`` members do::

    from bliss_shell.shell.cleanup import axis as cleanup_axis
    with cleanup(roby, restore_list=(cleanup_axis.POS, cleanup_axis.VEL)):
        ...

Examples
--------
>>> mv(roby, 1)
Moving roby from ... to 1.00000
>>> with cleanup(roby, restore_list=(axis.POS,)):
...     mv(roby, 2)
Moving roby from 1.00000 to 2.00000
>>> roby.position
1.0
"""

from __future__ import annotations

import enum
import inspect
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from bliss_shell.controllers import Axis, looks_like, stop_all, wait_all
from bliss_shell.scanning import umv

axis = enum.Enum("axis", "POS VEL ACC LIM")  # BLISS's name: what of a motor to put back


def cleanup(*devices: Any, restore_list: Iterable[axis] = (), verbose: bool = False) -> AbstractContextManager[None]:
    """At the end of the block, however it ends: call the functions, stop the devices and motors, restore the motors.

    In this order: each function is called, each device's ``stop`` method, the motors are stopped
    (and waited for), then their settings in ``restore_list`` are put back: velocity, acceleration,
    limits, and last their position (the one they had when the block started). A step that fails does
    not stop the others; its error is raised at the end (several: one line naming each step that failed).

    Parameters
    ----------
    *devices : Axis, function or object with a stop method
        What to clean up: motors, functions called without arguments, devices whose one ``stop...``
        method is called (a camera's ``stop``, ``stopAcq``).
    restore_list : iterable of axis
        ``axis.POS``, ``axis.VEL``, ``axis.ACC``, ``axis.LIM``: the motors' position, velocity,
        acceleration and limits put back.
    verbose : bool
        Move the motors back as ``umv`` does, showing the positions.

    Raises
    ------
    TypeError
        A device is none of those, or ``restore_list`` holds something else; nothing is done.
    RuntimeError
        Several cleanup steps failed (one failing raises its own error), as ``cleanup: 2 cleanup steps failed:
        close_shutter() (OSError: shutter jammed); restoring roby's velocity (...)``.

    Examples
    --------
    >>> with cleanup(lambda: print("shutter closed")):
    ...     ct(0.01, diode, return_scan=False)
    diode = ... (... /s) diode
    shutter closed
    """
    return _cleaned("cleanup", devices, restore_list, verbose, on_error_only=False)


def error_cleanup(*devices: Any, restore_list: Iterable[axis] = (), verbose: bool = False) -> AbstractContextManager[None]:
    """``cleanup`` done only when the block ends by an error or Ctrl-C.

    Parameters
    ----------
    *devices : Axis, function or object with a stop method
        As for ``cleanup``.
    restore_list : iterable of axis
        As for ``cleanup``.
    verbose : bool
        As for ``cleanup``.

    Examples
    --------
    >>> with error_cleanup(lambda: print("beam off")):
    ...     print("aligned")
    aligned
    """
    return _cleaned("error_cleanup", devices, restore_list, verbose, on_error_only=True)


@contextmanager
def _cleaned(command: str, devices: tuple[Any, ...], restore_list: Iterable[Any], verbose: bool,
             on_error_only: bool) -> Iterator[None]:  # fmt: skip
    restore = list(restore_list)
    wrong = [item for item in restore if not isinstance(item, axis)]
    if wrong:
        raise TypeError(f"{command}: restore_list holds {wrong!r}; give axis.POS, axis.VEL, axis.ACC or axis.LIM "
                        "(from bliss_shell.shell.cleanup import axis)")  # fmt: skip
    motors = [device for device in devices if looks_like(device, Axis)]
    steps = [_step(command, device) for device in devices if not looks_like(device, Axis)]
    kept = {item: [(motor, _setting(motor, item)) for motor in motors] for item in restore}
    try:
        yield
    except BaseException:
        _run_all(command, steps, motors, kept, verbose)
        raise
    if not on_error_only:
        _run_all(command, steps, motors, kept, verbose)


def _step(command: str, device: Any) -> Callable[[], Any]:
    """What to call for a device: itself when it is a function, else its one ``stop...`` method."""
    if callable(device):
        return device
    stops = [method for name, method in inspect.getmembers(device, inspect.ismethod) if name.startswith("stop")]
    if len(stops) > 1:
        stops = [method for method in stops if "acq" in method.__name__.lower()]
    if len(stops) != 1:
        raise TypeError(f"{command}: cannot clean up {getattr(device, 'name', device)!r}: it is no motor, no function and "
                        "has no single stop method; give a function that does it")  # fmt: skip
    return stops[0]


def _setting(motor: Axis, item: Any) -> Any:
    return motor.position if item is axis.POS else getattr(motor, _ATTRIBUTES[item])


_ATTRIBUTES = {axis.VEL: "velocity", axis.ACC: "acceleration", axis.LIM: "limits"}


def _run_all(command: str, steps: list[Callable[[], Any]], motors: list[Axis],
             kept: dict[Any, list[tuple[Axis, Any]]], verbose: bool) -> None:  # fmt: skip
    """Every step, whatever fails; then the one error, or one line naming each step that failed."""
    failed: list[tuple[str, Exception]] = []
    for step in steps:
        _collect(failed, _step_name(step), step)
    if motors:
        failed += [("stop", RuntimeError(f"{name}: {reason}")) for name, reason in stop_all(motors).items()]
    for item, attribute in _ATTRIBUTES.items():
        for motor, value in kept.get(item, []):
            _collect(failed, f"restoring {motor.name}'s {attribute}", setattr, motor, attribute, value)
    positions = kept.get(axis.POS, [])
    if positions:
        moved = ", ".join(motor.name for motor, _ in positions)
        _collect(failed, f"moving {moved} back", _move_back, positions, verbose)
    if len(failed) == 1:
        raise failed[0][1]
    if failed:
        said = "; ".join(f"{step} ({type(error).__name__}: {' '.join(str(error).split())})" for step, error in failed)
        raise RuntimeError(f"{command}: {len(failed)} cleanup steps failed: {said}")


def _step_name(step: Callable[[], Any]) -> str:
    """``close_shutter()``, or ``cam.stopAcq()`` for a device's stop method."""
    owner = getattr(step, "__self__", None)
    name = getattr(step, "__name__", type(step).__name__)
    return f"{getattr(owner, 'name', type(owner).__name__)}.{name}()" if owner is not None else f"{name}()"


def _move_back(positions: list[tuple[Axis, float]], verbose: bool) -> None:
    if verbose:
        umv(*(value for pair in positions for value in pair))
        return
    for motor, position in positions:
        motor.move(position, wait=False)
    try:
        wait_all(motor for motor, _ in positions)
    except BaseException:
        stop_all(motor for motor, _ in positions)
        raise


def _collect(failed: list[tuple[str, Exception]], step: str, call: Callable[..., Any], *args: Any) -> None:
    try:
        call(*args)
    except Exception as error:
        failed.append((step, error))
