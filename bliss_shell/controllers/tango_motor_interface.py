"""Which kind of Tango motor a device is, learnt from the device itself (its attributes and commands).

Three kinds, each with the names of docs/tango.md's motor table:

- ``bliss``: an axis of BLISS's Tango axis server (``BlissAxisManager``, BLISS 1.11.4
  ``bliss/tango/servers/axis_ds.py``), and our ``SimMotor``: ``Position`` in user units, ``Offset``,
  ``Sign``, ``Limits`` (user), ``SetPosition``, ``SetDial``, the limit switches ``HardLimitLow``/``HardLimitHigh``.
- ``sardana``: a motor of Sardana's Pool (sardana 3.7.1 ``sardana/tango/pool/Motor.py``): ``Position`` in
  user units, ``DialPosition``, ``Offset``, ``Sign``, ``Limit_switches``, ``DefinePosition``; limits in
  ``Position``'s attribute config (``min_value``, ``max_value``); ``Acceleration`` is a time in seconds.
- ``generic``: any other device with ``Position`` (read/write), ``State`` and ``Stop``; ``Velocity`` and
  ``Acceleration`` when it has them. Its ``Position`` is the shell's dial position.

The config key ``motor_interface`` (``bliss``, ``sardana`` or ``generic``) says it instead; a kind whose
names the device lacks is refused, naming them.

Examples
--------
>>> MotorInterface.learn("roby", "id00/motor/roby", {"Position", "Offset", "Sign", "Limits"}, {"Stop", "SetDial", "SetPosition"}).kind
'bliss'
>>> MotorInterface.learn("m", "x/y/z", {"Position"}, {"Stop"}, forced="sardana")
Traceback (most recent call last):
...
ValueError: m: Tango device x/y/z is not a Sardana motor (motor_interface: sardana): it has no DialPosition, Offset, Sign, Limit_switches, DefinePosition
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# What each kind has beyond Position, State and Stop (the names that tell it).
_SIGNATURES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "bliss": (frozenset({"Offset", "Sign", "Limits"}), frozenset({"SetDial", "SetPosition"})),
    "sardana": (frozenset({"DialPosition", "Offset", "Sign", "Limit_switches"}), frozenset({"DefinePosition"})),
    "generic": (frozenset(), frozenset()),
}
_WORDS = {"bliss": "a BLISS axis", "sardana": "a Sardana motor", "generic": "a motor"}
KINDS = tuple(_SIGNATURES)


@dataclass(frozen=True)
class MotorInterface:
    """The kind of a motor device and the names it has (attributes and commands, as the device spells them)."""

    kind: str
    attributes: frozenset[str]
    commands: frozenset[str]

    @property
    def holds_user_positions(self) -> bool:
        """Whether the server keeps user positions, offset, sign and limits (BLISS's and Sardana's do)."""
        return self.kind != "generic"

    def has(self, name: str) -> bool:
        """Whether the device has this attribute or command."""
        return name in self.attributes or name in self.commands

    @classmethod
    def learn(
        cls, name: str, url: str, attributes: Iterable[str], commands: Iterable[str], forced: str | None = None
    ) -> MotorInterface:
        """The kind of the device with these attribute and command names (``forced``: the config's ``motor_interface``)."""
        attributes, commands = frozenset(attributes), frozenset(commands)
        missing = [n for n in ("Position",) if n not in attributes] + [n for n in ("Stop",) if n not in commands]
        if missing:
            raise ValueError(f"{name}: Tango device {url} is not a motor: it has no {', '.join(missing)}")
        if forced is not None and forced not in KINDS:
            raise ValueError(f"{name}: motor_interface {forced!r} is not one of {', '.join(KINDS)}")
        for kind in (forced,) if forced else KINDS:
            kind_attributes, kind_commands = _SIGNATURES[kind]
            lacking = sorted(kind_attributes - attributes) + sorted(kind_commands - commands)
            if not lacking:
                return cls(kind, attributes, commands)
        ordered = [n for n in ("DialPosition", "Offset", "Sign", "Limit_switches", "Limits", "DefinePosition", "SetDial",
                               "SetPosition") if n in lacking]  # fmt: skip
        raise ValueError(
            f"{name}: Tango device {url} is not {_WORDS[str(forced)]} (motor_interface: {forced}): it has no {', '.join(ordered)}"
        )
