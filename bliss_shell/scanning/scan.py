"""A scan: its description (``ScanPlan``), its acquisition chain, and how one run of it goes.

Every scan command returns its ``Scan``; ``SCANS[-1]`` is the session's last one.

``Scan.run`` numbers and places the scan, publishes the chain's tree, makes the session's consumers
(``subscriptions.py``: Redis, the file, the cameras' frames, the display, the logbook) and those given to
that run, lets the engine walk the chain, and ends it the same way whatever happened (``ending.py``):
``SCANS[-1].state``, the Redis END, the file's status, motors returned, one line at the prompt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bliss_shell.comm.redis_types import RedisError
from bliss_shell.controllers import AcquisitionParameters
from bliss_shell.data import ScanNode, get_node
from bliss_shell.data.publisher import ScanPublisher
from bliss_shell.writer import check_target

from .chain import build_chain
from .consumers import Ending, EndState, ScanStart
from .context import ScanContext
from .ending import end_consumers, interrupted_end, return_motors, shielded, state_of, where_things_stand
from .engine import Engine
from .placing import number_and_place, reach_redis
from .plan import ScanPlan
from .scan_data import ScanData
from .scan_identity import scan_identity
from .scan_info import describe, note_device_states, positioners_at, saving_facts
from .scan_reader import read_data
from .scan_tools import goto_measure, measure
from .subscriptions import RunningConsumer, Subscription, consumers_of
from .tree import publish_tree


class Scan:
    """One scan of the session: what it does, where it went, its data; goes into ``SCANS`` when it starts.

    A scan command makes it from its ``ScanPlan``, runs it and returns it.

    Attributes
    ----------
    name : str
        The command: ``'ascan'``, ``'loopscan'``, ...
    number : int or None
        Its number in its saving folder (an unsaved scan: the session's shadow number, node ``_N_ct``);
        None until it runs.
    path : str or None
        Its HDF5 file, its entry ``N.1``; None when it is not saved.
    state : str
        ``'idle'``, ``'running'``, then how it ended: ``'done'``, ``'aborted'`` (Ctrl-C) or ``'failed'``.
    node : ScanNode or None
        Its node in the data tree (Redis), once published.
    plan : ScanPlan
        What it does: motors, positions, counters, count time.
    chain : AcquisitionChain
        The acquisition objects it runs.

    Examples
    --------
    >>> s = SCANS[-1]
    >>> s
    Scan(number=2, name=ascan, path=.../data.h5)
    >>> s.name, s.number, s.state
    ('ascan', 2, 'done')
    >>> s.plan.title
    'ascan roby 0 4 5 0'
    >>> s.node
    <ScanNode test_session:...:2_ascan type=scan>
    >>> data = s.get_data()
    >>> list(data)
    ['roby', 'elapsed_time', 'epoch', 'diode']
    >>> data["roby"]
    array([0., 1., 2., 3., 4.])
    >>> len(data["diode"])
    5
    """

    def __init__(self, context: ScanContext, plan: ScanPlan):
        self._context = context
        self.plan = plan
        self.name = plan.name
        self.chain = build_chain(plan.name, plan)  # a chain that cannot be built refuses the scan before Redis
        self.number: int | None = None
        self.path = context.scan_saving.scan_filename(plan.save)
        self.node: ScanNode | None = None
        self.state = "idle"
        self._start: ScanStart | None = None  # what its consumers were made from, once it runs
        self._consumers: list[RunningConsumer] = []
        self._newest: dict[str, Any] = {}
        self._taken = 0  # whole points taken, once it ran
        self._device_states: dict[str, str] = {}  # counter -> a state of its device its config does not allow
        self._positioners: dict[str, dict[str, float | None]] = {}  # its info's positioners_start, ..._end
        self._saving: dict[str, Any] = {}  # what its info says of SCAN_SAVING as it started (``saving_facts``)

    def __repr__(self) -> str:
        unsaved = "<no saving>" if not self.plan.save else "<no saving: SCAN_SAVING.writer is 'null'>"
        return f"Scan(number={self.number}, name={self.name}, path={self.path or unsaved})"

    def run(self, consumers: Iterable[Subscription] | None = None) -> Scan:
        """Publish the tree, hand every point to the consumers, end them all; Ctrl-C ends it as aborted.

        A scan runs once. Whatever happens, the devices are stopped, Redis and the file say how it
        ended, the logbook has its line and ``dscan`` motors go back.

        Parameters
        ----------
        consumers : iterable of Subscription, optional
            More consumers for this scan only (``[Subscription("count", Count)]``), made after the
            session's (``current().consumers``): every scan has its record in Redis and its file, and
            the session's observers.

        Returns
        -------
        Scan
            The scan itself, done.

        Raises
        ------
        RuntimeError
            The scan has already run; Redis cannot number it; or every point was taken but a device did
            not stop (``state`` is then ``'failed'``).
        TypeError
            ``consumers`` holds something that is not a ``Subscription`` (checked before it is numbered).
        ValueError
            ``consumers`` names a consumer the session has, or one twice (checked before it is numbered).
        SavingError
            The file cannot be written (checked before anything moves).
        ConsumerError
            A data consumer failed (its factory, a point, its end, its record incomplete): the message
            names it; ``state`` is ``'failed'`` and Redis, the file and the logbook say why.
        KeyboardInterrupt
            Ctrl-C: raised again once the scan ended as ``'aborted'``. A Ctrl-C once every point was taken
            (the display catching up) skips the end's waits, not the return of ``dscan`` motors: raised
            once they are back, ``state`` staying ``'done'``.

        Examples
        --------
        >>> from bliss_shell.scanning import current
        >>> again = Scan(current(), SCANS[-1].plan)
        >>> again.state, again.number
        ('idle', None)
        >>> again.run()
        Scan(number=..., name=ascan, path=.../data.h5)
        >>> again.state, again is SCANS[-1]
        ('done', True)
        >>> again.run()
        Traceback (most recent call last):
        ...
        RuntimeError: Scan(number=..., name=ascan, path=.../data.h5) has already run; start a new scan
        """
        if self.state != "idle":
            raise RuntimeError(f"{self!r} has already run; start a new scan")
        context = self._context
        subscriptions = [*context.consumers, *_checked(self.name, () if consumers is None else consumers,
                                                       context.consumers.names())]  # fmt: skip
        start = self._place()
        publisher = start.publisher
        node = ScanNode(context.client, start.db_name, {"name": start.db_name.rsplit(":", 1)[1], "type": "scan"})
        engine: Engine | None = None
        error: BaseException | None = None
        try:
            for consumer in consumers_of(subscriptions, start):  # those made before a failing factory are ended
                self._consumers.append(consumer)
            engine = Engine(self.chain, self._parameters(), [consumer for consumer in self._consumers if consumer.takes_points])
            for consumer in self._consumers:
                consumer.start()
            engine.prepare()
            if note_device_states(self.chain, self._device_states):  # the readers that see PREPARED see them too
                publisher.set_info(start.db_name, self._info(start.time, None, 0))
            for consumer in self._consumers:
                consumer.prepared()  # what they queue (a camera's references) goes with PREPARED
            publisher.prepared(start.db_name)
            publisher.wait_tree_sent()
            self.node = node  # its tree is in Redis: readers given scan.node find it
            engine.run()
        except BaseException as caught:
            error = caught
        self.node = node
        late_failure = self._end(engine, error, start)
        if error is not None:
            raise error
        if late_failure is not None:  # every point was taken, but a device did not stop, a record is incomplete or Ctrl-C
            raise late_failure
        return self

    def _place(self) -> ScanStart:
        """Number and place the scan, queue its tree for Redis: what its consumers are made from."""
        context = self._context
        reach_redis(context, self.name)  # SCAN_SAVING and the number live in Redis
        saving = context.scan_saving
        self.path = saving.scan_filename(self.plan.save, self.name)  # SCAN_SAVING as it is now, like the tree
        numbered = bool(self.path) and saving.number_in_path  # {scan_number} in the template: a file per scan
        if self.path and not numbered:
            check_target(self.path)  # before anything is numbered, moved or published
        self.number, db_name = number_and_place(context, self.name, self.path, numbered)
        if numbered:  # its file is known once numbered, as in BLISS: a folder that cannot be made costs the number
            self.path = path = saving.scan_filename(self.plan.save, self.name, self.number)
            assert path is not None  # saved: numbered needs a path
            check_target(path)  # before anything is moved or published
        self.state = "running"
        context.scans.append(self)
        publisher = ScanPublisher(
            context.client,
            retention=context.retention,
            parents=[db_name.rsplit(":", 1)[0], context.session],
            saved=bool(self.path),
            identity=scan_identity(saving, context.session, self.name, self.number, self.path),  # blissdata 2's doc
        )
        time = datetime.now().astimezone()
        try:
            positions, dial = context.positioners(), context.positioners(dial=True)  # read once: the info, the file
            self._saving = saving_facts(saving)  # SCAN_SAVING read once, as the scan starts
            self._positioners = positioners_at("start", positions, dial, context.positioner_units())
            info = self._info(time, None, 0)
            channels = tuple(publish_tree(publisher, db_name, self.chain, info))
        except Exception as error:  # numbered and in SCANS: it ends failed, in Redis too, and is no longer running
            self.state = EndState.FAILED.value
            with contextlib.suppress(Exception):  # Redis refusing it too: the first error says what to fix
                publisher.end(db_name, self.state, state_of(error)[1])
            raise
        self._start = ScanStart(context, self.plan, self.chain, self.number, db_name, self.path, time, info,
                                positioners=positions, dial_positioners=dial, channels=channels,
                                publisher=publisher)  # fmt: skip
        return self._start

    def _end(self, engine: Engine | None, error: BaseException | None, start: ScanStart) -> BaseException | None:
        """Stop the devices, end every consumer, tell the user; return a failure found after the last point.

        A Ctrl-C during the end of a scan that was not aborted is returned too (once its motors went back).

        ``engine`` is None when the scan failed before its engine was made (a data consumer's factory).
        """
        state, reason = state_of(error)
        forced = False
        try:
            failures = engine.stop() if engine is not None else []
        except KeyboardInterrupt:
            failures, forced = [], True
        if engine is not None:
            self._newest, self._taken = engine.newest_point(), engine.points
        note_device_states(self.chain, self._device_states)
        late: Exception | None = None
        if failures and state is EndState.DONE:
            state, reason = EndState.FAILED, "; ".join(failures)
            late = RuntimeError(reason)
        end = datetime.now().astimezone()
        ending = Ending(state, reason, end, self._info(start.time, end, self._taken, state))
        # a motor whose server stopped answering makes each read wait: Ctrl-C then must not skip the ends
        forced |= shielded(lambda: self._read_positioners(ending))
        ending.scan_info["positioners"] = {**ending.scan_info.get("positioners", {}),
                                           **positioners_at("end", ending.positioners, ending.dial_positioners)}  # fmt: skip
        forced, failure = end_consumers(self._consumers, ending, start, forced)
        self.state = ending.state.value
        try:
            published = get_node(start.db_name, self._context.client)
            self.node = published if isinstance(published, ScanNode) else self.node
        except RedisError:  # Redis went away during the scan: the file has it all
            pass
        aborted = ending.state is EndState.ABORTED
        if aborted:
            print(where_things_stand(self.number, self.plan.axes, self.plan.return_to, ending.taken, forced))
        elif forced:  # the user's one Ctrl-C came as it ended: it skips the waits, not the return
            print(interrupted_end(self.number, ending.state.value, self.plan.return_to))
        if not (aborted and forced):  # forced after an abort: the second Ctrl-C
            return_motors(self.plan.return_to, aborted or forced)
        return late or failure or (KeyboardInterrupt() if forced and not aborted else None)

    @property
    def last_point(self) -> dict[str, Any]:
        """The values of the scan's newest point, by channel fullname (``{"diode:diode": 56.0, ...}``).

        Examples
        --------
        >>> list(SCANS[-1].last_point)
        ['axis:roby', 'timer:elapsed_time', 'timer:epoch', 'diode:diode']
        >>> SCANS[-1].last_point["axis:roby"]
        4.0
        """
        return dict(self._newest)

    def _parameters(self) -> AcquisitionParameters:
        """What every acquisition object is prepared with; frames are saved only with the scan."""
        plan = self.plan
        images = self._context.scan_saving.images_path(self.number, self.name) if self.path and self.number else None
        return AcquisitionParameters(plan.npoints, plan.count_time, plan.timing, plan.continuous, images)

    def _read_positioners(self, ending: Ending) -> None:
        """Every motor's user and dial position as the scan ends, for its info and its file."""
        ending.positioners.update(self._context.positioners())
        ending.dial_positioners.update(self._context.positioners(dial=True))

    def _info(self, start: datetime | None, end: datetime | None, points: int, end_state: EndState | None = None
              ) -> dict[str, Any]:  # fmt: skip
        """The scan's info as published and written (BLISS's schema), with what ``scan_info=`` gave."""
        return describe(self.plan, self._context.session, self.path, start, end, points, self._device_states,
                         chain=self.chain, number=self.number, saving=self._saving, end_state=end_state,
                         positioners=self._positioners)  # fmt: skip

    @property
    def scan_number(self) -> int | None:
        """BLISS's name for ``number``: None until the scan runs.

        Examples
        --------
        >>> SCANS[-1].scan_number
        2
        """
        return self.number

    @property
    def scan_info(self) -> dict[str, Any]:
        """The scan's info as readers get it, with what ``scan_info=`` gave.

        ``title``, ``type``, ``npoints``, ``count_time``, ``filename``, ``start_time``, ``end_time``, ...;
        before it ran, or once Redis dropped it, what the shell knows of it (no times).

        Examples
        --------
        >>> info = SCANS[-1].scan_info
        >>> info["title"], info["type"], info["npoints"], info["points_acquired"]
        ('ascan roby 0 4 5 0', 'ascan', 5, 5)
        >>> info["motors"], info["counters"]
        (['roby'], ['diode'])
        """
        published = self.node.info if self.node is not None else {}
        return published or self._info(None, None, 0)

    def get_data(self) -> ScanData:
        """Every channel as a numpy array, keyed by short name (fullname where two clash).

        Read from Redis; from the scan's file once Redis has let the scan go (retention time, memory
        cap) or missed points of it (unreachable or full while it ran). A Lima detector's channel is a
        view of its frames, by fullname.

        Returns
        -------
        ScanData
            A dict of arrays that also answers to fullnames (``'axis:roby'``) and objects (``roby``).

        Raises
        ------
        RuntimeError
            The scan has not run, or it was not saved and Redis no longer has it.

        Examples
        --------
        >>> data = SCANS[-1].get_data()
        >>> data["roby"]
        array([0., 1., 2., 3., 4.])
        >>> data[roby] is data["axis:roby"] is data["roby"]
        True
        >>> data["diode"].shape
        (5,)
        >>> SCANS[0].get_data()["elapsed_time"].shape  # the loopscan
        (5,)
        """
        if self.node is None or self._start is None:
            raise RuntimeError(f"{self!r} has not run yet: call .run()")

        def views(expired: bool) -> dict[str, Any]:
            return {name: view for consumer in self._consumers for name, view in consumer.data_views(expired).items()}

        return read_data(self._start, self.node, views)

    # Peak tools on this scan: counter defaults to plotselect's choice, axis to the first scanned motor.
    def cen(self, counter: Any = None, axis: Any = None) -> float:
        """Centre of the counter's peak, the middle of its half-maximum crossings: ``cen(scan=this)``, see ``help(cen)``.

        Examples
        --------
        >>> s = ascan(roby, 0, 6, 13, 0, sim_ct_gauss)  # a gaussian at roby = 3.2
        >>> s.cen(), s.fwhm(), s.peak(), s.com()
        (3.2018..., 2.3821..., 3.0, 3.2005...)
        >>> s.cen("sim_ct_gauss", roby)
        3.2018...
        """
        return measure("cen", self, counter, axis)

    def fwhm(self, counter: Any = None, axis: Any = None) -> float:
        """Full width at half maximum of the counter's peak: ``fwhm(scan=this)``, see ``help(fwhm)``."""
        return measure("fwhm", self, counter, axis)

    def peak(self, counter: Any = None, axis: Any = None) -> float:
        """Motor position of the counter's highest value: ``peak(scan=this)``, see ``help(peak)``."""
        return measure("peak", self, counter, axis)

    def trough(self, counter: Any = None, axis: Any = None) -> float:
        """Motor position of the counter's lowest value: ``trough(scan=this)``, see ``help(trough)``."""
        return measure("trough", self, counter, axis)

    def com(self, counter: Any = None, axis: Any = None) -> float:
        """Centre of mass of the counter's values above the lowest one: ``com(scan=this)``, see ``help(com)``."""
        return measure("com", self, counter, axis)

    def goto_cen(self, counter: Any = None, axis: Any = None) -> float:
        """Move the motor to ``cen()`` as ``umv`` does; return where it was sent (``help(goto_cen)``).

        Examples
        --------
        >>> s = ascan(roby, 0, 6, 13, 0, sim_ct_gauss)  # a gaussian at roby = 3.2
        >>> s.goto_cen()
        Moving roby from 6.00000 to 3.20180
        roby[mm]
        --------
         3.20180
         3.20180
        3.2018...
        """
        return goto_measure("cen", self, counter, axis)

    def goto_peak(self, counter: Any = None, axis: Any = None) -> float:
        """Move the motor to ``peak()`` as ``umv`` does; return where it was sent (``help(goto_peak)``)."""
        return goto_measure("peak", self, counter, axis)

    def goto_min(self, counter: Any = None, axis: Any = None) -> float:
        """Move the motor to ``trough()`` as ``umv`` does; return where it was sent (``help(goto_min)``)."""
        return goto_measure("trough", self, counter, axis)

    def goto_com(self, counter: Any = None, axis: Any = None) -> float:
        """Move the motor to ``com()`` as ``umv`` does; return where it was sent (``help(goto_com)``)."""
        return goto_measure("com", self, counter, axis)


def _checked(command: str, consumers: Any, names: list[str]) -> list[Subscription]:
    """The subscriptions a scan adds to the session's; refused before it is numbered: other things, names there already.

    ``names``: the session's consumers.

    Examples
    --------
    >>> _checked("loopscan", [print], [])
    Traceback (most recent call last):
    ...
    TypeError: loopscan.run: consumers= takes subscriptions (Subscription(name, factory), from bliss_shell.scanning), not <built-in function print>; nothing was numbered
    >>> from bliss_shell.scanning import current
    >>> _checked("loopscan", list(current().consumers)[:1], current().consumers.names())
    Traceback (most recent call last):
    ...
    ValueError: loopscan.run: a consumer 'lima frames' is there already (the session's, or given twice): consumers= adds subscriptions to the session's for this scan; nothing was numbered
    >>> _checked("loopscan", 42, [])
    Traceback (most recent call last):
    ...
    TypeError: loopscan.run: consumers= takes a list of subscriptions ([Subscription(name, factory)], from bliss_shell.scanning), not 42; nothing was numbered
    """
    if isinstance(consumers, (str, Subscription)) or not isinstance(consumers, Iterable):
        raise TypeError(f"{command}.run: consumers= takes a list of subscriptions ([Subscription(name, factory)], from "
                        f"bliss_shell.scanning), not {consumers!r}; nothing was numbered")  # fmt: skip
    subscriptions = list(consumers)
    taken = set(names)
    for item in subscriptions:
        if not isinstance(item, Subscription):
            raise TypeError(f"{command}.run: consumers= takes subscriptions (Subscription(name, factory), from "
                            f"bliss_shell.scanning), not {item!r}; nothing was numbered")  # fmt: skip
        if item.name in taken:
            raise ValueError(f"{command}.run: a consumer {item.name!r} is there already (the session's, or given twice): "
                             "consumers= adds subscriptions to the session's for this scan; nothing was numbered")  # fmt: skip
        taken.add(item.name)
    return subscriptions
