"""The acquisition chain: a tree of acquisition objects, built by a scan command, walked by the engine.

The top master triggers its children (``axis`` -> ``timer`` -> one object per counter
controller, Lima detector or MCA). The published data tree is this tree: one node per
object, its channels below it (``1_ascan:axis:roby``, ``1_ascan:axis:timer:elapsed_time``,
``1_ascan:axis:timer:sim:c1``, ``1_ct:timer:lima_simulator:image``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bliss_shell.controllers import AcquisitionObject, Counter

from .continuous import ContinuousMotorMaster
from .masters import StepMotorMaster, TimerMaster
from .plan import ScanPlan


@dataclass
class ChainNode:
    """One acquisition object of the chain and the objects it triggers."""

    device: AcquisitionObject
    children: list[ChainNode] = field(default_factory=list)


@dataclass
class AcquisitionChain:
    """The tree of acquisition objects a scan runs, top master first.

    Examples
    --------
    The chain of ``ascan(roby, 0, 4, 5, 0, diode)``:

    >>> chain = build_chain("ascan", SCANS[-1].plan)
    >>> [[device.name for device in level] for level in chain.levels()]
    [['axis'], ['timer'], ['diode']]
    """

    top: ChainNode

    def levels(self) -> list[list[AcquisitionObject]]:
        """The objects level by level, top master first."""
        levels, current = [], [self.top]
        while current:
            levels.append([node.device for node in current])
            current = [child for node in current for child in node.children]
        return levels

    def walk(self) -> Iterator[tuple[ChainNode, ChainNode | None]]:
        """Every node with its parent (None for the top), parents first."""
        stack: list[tuple[ChainNode, ChainNode | None]] = [(self.top, None)]
        while stack:
            node, parent = stack.pop(0)
            yield node, parent
            stack.extend((child, node) for child in node.children)


def counter_objects(command: str, counters: Sequence[Counter]) -> list[AcquisitionObject]:
    """One acquisition object per controller, for all the counters of it being counted."""
    groups: dict[str, list[Counter]] = {}
    for counter in counters:
        groups.setdefault(counter.controller_name, []).append(counter)
    objects = []
    for name, group in groups.items():
        if any(counter.controller != group[0].controller for counter in group):
            raise ValueError(f"{command}: {', '.join(c.name for c in group)} name the same controller '{name}' but are "
                             "different kinds of counter; give them different controllers in the config")  # fmt: skip
        objects.append(group[0].controller.acquisition_object(group))
    reserved = {"axis", "timer", "elapsed_time"}
    for device in objects:
        if device.name in reserved:
            raise ValueError(
                f"{command}: a controller may not be called '{device.name}' (a master's name); rename it in the config"
            )
    return objects


def build_chain(command: str, plan: ScanPlan) -> AcquisitionChain:
    """The chain of a scan: motor master (step or continuous) over the timer over the counters.

    Raises
    ------
    ValueError
        Counters that cannot go in one chain: two kinds of counter under one controller name, a
        controller named as a master, or a continuous scan of devices that do not time themselves.

    Examples
    --------
    >>> plan = ScanPlan("loopscan", "loopscan 3 0.1", [], np.empty((3, 0)), [diode, c1, c2], 0.1, 3)
    >>> [[device.name for device in level] for level in build_chain("loopscan", plan).levels()]
    [['timer'], ['diode', 'sim']]
    """
    devices = counter_objects(command, plan.counters)
    if plan.continuous:
        _check_continuous(command, devices)
    timer = ChainNode(TimerMaster(plan.count_time, plan.sleep_time), [ChainNode(device) for device in devices])
    if plan.trajectory is not None:
        return AcquisitionChain(ChainNode(ContinuousMotorMaster(plan.trajectory), [timer]))
    if plan.axes:
        return AcquisitionChain(ChainNode(StepMotorMaster(plan.axes, plan.positions), [timer]))
    return AcquisitionChain(timer)


def _check_continuous(command: str, devices: Sequence[AcquisitionObject]) -> None:
    """Every device of a continuous scan must time itself (a counter card, Lima) or take the card's gate (an MCA)."""
    unable = [device.name for device in devices if not getattr(device, "continuous_capable", False)]
    if unable:
        raise ValueError(f"{command}: {', '.join(unable)} cannot count in a continuous scan (only counter cards, "
                         "Lima detectors and MCAs gated by a card count there); count them with a step scan")  # fmt: skip
    gated = [device.name for device in devices if getattr(device, "needs_gate", False)]
    if gated and not any(getattr(device, "gives_gate", False) for device in devices):
        raise ValueError(f"{command}: {', '.join(gated)} takes its gate from a counter card; "
                         "count one of the card's counters too (ct_timer)")  # fmt: skip
    if not devices:
        raise ValueError(f"{command}: give a counter card or a Lima detector: they time a continuous scan")
