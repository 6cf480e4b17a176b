"""A scan: its description (``ScanPlan``), its acquisition chain, and how one run of it goes.

Every scan command returns its ``Scan``; ``SCANS[-1]`` is the session's last one.

``Scan.run`` numbers and places the scan, publishes the chain's tree, lets the engine walk the
chain, and ends it the same way whatever happened (``ending.py``): ``SCANS[-1].state``, the Redis
END, the file's status, motors returned, one line at the prompt.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis

from bliss_shell.controllers import AcquisitionParameters, Axis, looks_like
from bliss_shell.controllers.acquisition import DeviceState
from bliss_shell.controllers.lima_protocol import saved_frame
from bliss_shell.data import ChannelDataNode, LimaNode, ScanNode, get_node
from bliss_shell.data.lima_view import KeptLimaNode, LimaDataView, acquisition_key
from bliss_shell.data.publisher import ScanPublisher
from bliss_shell.writer import ImageFrames, NexusScanWriter, check_target, dataset_names, entry_name, read_measurement

from .chain import build_chain
from .consumers import DisplayConsumer, Ending, EndState, FileConsumer, FrameCounter, RedisConsumer, ScanConsumer
from .context import ScanContext
from .ending import interruptible, return_motors, shielded, state_of, where_things_stand
from .engine import Engine
from .logbook import LogbookConsumer
from .placing import number_and_place, reach_redis
from .plan import ScanPlan
from .scan_data import ScanData
from .scan_tools import goto_measure, measure
from .tree import PublishedChannel, publish_tree


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
        reach_redis(context, self.name)  # SCAN_SAVING, read next, lives in Redis
        self.number: int | None = None
        self.path = context.scan_saving.scan_filename(plan.save)
        self.node: ScanNode | None = None
        self.state = "idle"
        self._channels: list[PublishedChannel] = []
        self._image_info: dict[str, dict] = {}  # lima channel fullname: references of its frames
        self._frames = FrameCounter([])
        self._newest: dict[str, Any] = {}
        self._in_redis_whole = True  # False when Redis missed points (unreachable, memory cap): read the file
        self._device_states: dict[str, str] = {}  # counter -> a state of its device its config does not allow
        self._db_name = ""

    def __repr__(self) -> str:
        unsaved = "<no saving>" if not self.plan.save else "<no saving: SCAN_SAVING.writer is 'null'>"
        return f"Scan(number={self.number}, name={self.name}, path={self.path or unsaved})"

    def run(self) -> Scan:
        """Publish the tree and write the file, take every point, end both; Ctrl-C ends it as aborted.

        A scan runs once. Whatever happens, the devices are stopped, Redis and the file say how it
        ended, the logbook has its line and ``dscan`` motors go back.

        Returns
        -------
        Scan
            The scan itself, done.

        Raises
        ------
        RuntimeError
            The scan has already run; Redis cannot number it; or every point was taken but a device did
            not stop or the file is incomplete (``state`` is then ``'failed'``).
        SavingError
            The file cannot be written (checked before anything moves).
        KeyboardInterrupt
            Ctrl-C: raised again once the scan ended as ``'aborted'``.

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
        reach_redis(context, self.name)
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
        self._db_name = db_name
        self.state = "running"
        context.scans.append(self)
        publisher = ScanPublisher(
            context.client, retention=context.retention, parents=[db_name.rsplit(":", 1)[0], context.session]
        )
        start = datetime.now().astimezone()
        self._channels = publish_tree(publisher, db_name, self.chain, self._info(start, None, 0))
        node = ScanNode(context.client, db_name, {"name": db_name.rsplit(":", 1)[1], "type": "scan"})
        images = {channel.spec.fullname: channel.spec.db_name for channel in self._channels if channel.is_image}
        self._frames = FrameCounter(list(images))
        redis_consumer = RedisConsumer(publisher, db_name, images)
        writer = self._writer(db_name) if self.path else None
        consumers: list[ScanConsumer] = [FileConsumer(writer)] if writer else []
        consumers += [redis_consumer, self._frames] if images else [redis_consumer]
        if context.watch is not None:
            consumers.append(DisplayConsumer(context.watch(db_name)))
        consumers.append(LogbookConsumer(context, self.number, self.plan.title, self.path))  # last: the final end state

        engine = Engine(self.chain, self._parameters(), consumers)
        error: BaseException | None = None
        try:
            if writer is not None:
                writer.start(self.plan.title, start, self._positioners(), self._info(start, None, 0))
            engine.prepare()
            if self._note_device_states():  # the readers that see PREPARED see them too
                publisher.set_info(db_name, self._info(start, None, 0))
            self._publish_image_references(publisher)
            publisher.prepared(db_name)
            publisher.wait_tree_sent()
            self.node = node  # its tree is in Redis: readers given scan.node find it
            engine.run()
        except BaseException as caught:
            error = caught
        self.node = node
        self._newest = engine.newest_point()
        late_failure = self._end(engine, consumers, error, start)
        self._in_redis_whole = redis_consumer.complete
        if error is not None:
            raise error
        if late_failure:  # every point was taken, but a device did not stop or the file is incomplete
            raise RuntimeError(late_failure)
        return self

    def _end(self, engine: Engine, consumers: list[ScanConsumer], error: BaseException | None, start: datetime) -> str:
        """Stop the devices, end every consumer, tell the user; return a failure found after the last point."""
        state, reason = state_of(error)
        forced = False
        try:
            failures = engine.stop()
        except KeyboardInterrupt:
            failures, forced = [], True
        self._note_device_states()
        late = ""
        if failures and state is EndState.DONE:
            state, reason = EndState.FAILED, "; ".join(failures)
            late = reason
        end = datetime.now().astimezone()
        ending = Ending(state, reason, end, self._info(start, end, engine.points), self._positioners(), self._image_frames())
        for consumer in (c for c in consumers if c.essential):
            self.state = ending.state.value
            forced |= shielded(lambda: consumer.end(ending))  # noqa: B023  (called here, in this round)
            if consumer.failure and ending.state is EndState.DONE:
                ending.state, ending.reason = EndState.FAILED, consumer.failure
                late = consumer.failure
        self.state = ending.state.value
        try:
            published = get_node(self._db_name, self._context.client)
            self.node = published if isinstance(published, ScanNode) else self.node
        except redis.RedisError:  # Redis went away during the scan: the file has it all
            pass
        for consumer in (c for c in consumers if not c.essential):
            if not forced:
                forced = interruptible(lambda: consumer.end(ending))  # noqa: B023  (called here, in this round)
        if ending.state is EndState.ABORTED:
            print(where_things_stand(self.number, self.plan.axes, self.plan.return_to, self._frame_counts(), forced))
        if not forced:
            return_motors(self.plan.return_to)
        return late

    def _note_device_states(self) -> bool:
        """Print each device found in a state its config does not allow, one line per device and scan; True if new."""
        found: dict[tuple[str, str, str, bool], DeviceState] = {}
        for level in self.chain.levels():
            for device in level:
                for state in getattr(device, "device_states", list)():
                    new = tuple(counter for counter in state.counters if counter not in self._device_states)
                    key = (state.device, state.state, state.allowed, state.at_end)  # counters of several controllers
                    if new:
                        known = found[key].counters if key in found else ()
                        found[key] = replace(state, counters=known + new)
        for state in found.values():
            self._device_states.update(dict.fromkeys(state.counters, state.state))
            print(f"WARNING: {state.line}", flush=True)
        return bool(found)

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

    def _publish_image_references(self, publisher: ScanPublisher) -> None:
        """Each Lima node's references, once its detector is prepared (readers find the frames with them)."""
        for channel in self._channels:
            if channel.is_image:
                info = dict(channel.info.info)
                info["lima_acq_nb"] = int(self._context.client.incr(acquisition_key(info["server_url"])))
                publisher.set_info(channel.spec.db_name, info)
                self._image_info[channel.spec.fullname] = info

    def _frame_counts(self) -> dict[str, int]:
        """How many frames each detector took, by detector name."""
        return {fullname.split(":")[0]: count for fullname, count in self._frames.frames.items()}

    def _image_frames(self) -> list[ImageFrames]:
        """The frames each detector saved, for the links in the scan's file."""
        frames = []
        for fullname, info in self._image_info.items():
            if info["saving_mode"] != "AUTO_FRAME":
                continue
            files: dict[str, int] = {}
            for index in range(self._frames.frames[fullname]):
                path, _ = saved_frame(info, index)
                files[path] = files.get(path, 0) + 1
            detector = fullname.split(":")[0]
            frames.append(
                ImageFrames(detector, info["frame_path"], (info["height"], info["width"]), info["dtype"], list(files.items()))
            )
        return frames

    def _data_channels(self) -> list[PublishedChannel]:
        """The channels of values (every channel but the Lima detectors' frame references)."""
        return [channel for channel in self._channels if not channel.is_image]

    def _writer(self, db_name: str) -> NexusScanWriter:
        """The scan's file writer; its plot is the first counted channel (a scalar if any) along the motors."""
        assert self.path is not None
        specs = [channel.spec for channel in self._data_channels()]
        names = dict(zip((spec.fullname for spec in specs), dataset_names(specs)))
        axes = [names[f"axis:{axis.name}"] for axis in self.plan.axes]
        counted = [c.spec for c in self._data_channels() if id(c.info.source) in {id(counter) for counter in self.plan.counters}]
        first = min(counted, key=lambda spec: len(spec.shape), default=None)  # a scalar, else a spectrum (an MCA alone)
        signal = names[first.fullname] if first else None  # the plot silx draws on open
        assert self.number is not None
        return NexusScanWriter(self.path, entry_name(self.number), specs, plot=(signal, axes),
                               dial_positions=lambda: self._positioners(dial=True))  # fmt: skip

    def _positioners(self, dial: bool = False) -> dict[str, float]:
        """Every motor of the session (user positions, or dial), for instrument/positioners*.

        NaN for a motor that cannot be read.
        """
        positions = {}
        for value in list(self._context.namespace.values()):
            if looks_like(value, Axis):
                try:
                    positions[value.name] = value.dial if dial else value.position
                except Exception:  # its server is gone: the position is unknown, the scan's own error says why
                    positions[value.name] = math.nan
        return positions

    def _info(self, start: datetime, end: datetime | None, points: int) -> dict[str, Any]:
        """The scan's info as published and written, with what ``scan_info=`` gave."""
        plan = self.plan
        info = {
            "title": plan.title,
            "type": plan.name,
            "npoints": plan.npoints,
            "count_time": plan.count_time,
            "session_name": self._context.session,
            "filename": self.path,
            "save": self.path is not None,
            "start_time": start.isoformat(),
            "motors": [axis.name for axis in plan.axes],
            "counters": [counter.name for counter in plan.counters],
            "points_acquired": points,
        }
        if self._device_states:  # counters whose device was in a state their config does not allow
            info["device_states"] = dict(self._device_states)
        if end is not None:
            info["end_time"] = end.isoformat()
        info.update(plan.scan_info)
        return info

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
        if published:
            return published
        known = self._info(datetime.now(), None, 0)
        del known["start_time"]
        return known

    def get_data(self) -> ScanData:
        """Every channel as a numpy array, keyed by short name (fullname where two clash).

        Read from Redis; from the scan's file once Redis has let the scan go (retention time, memory
        cap) or missed points of it. A Lima detector's channel is a view of its frames, by fullname.

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
        if self.node is None:
            raise RuntimeError(f"{self!r} has not run yet: call .run()")
        channels = self._data_channels()
        specs = [channel.spec for channel in channels]
        # Redis lost points of it (unreachable, memory cap), or it expired there (retention): read the file
        gone = not self._in_redis_whole or get_node(self.node.db_name, self._context.client) is None
        if gone and not self.path and self._in_redis_whole:
            raise RuntimeError(f"scan {self.node.name} was not saved and has expired from Redis (data_retention, or "
                               "removed to keep redis_memory_cap): its data is gone; save scans to keep them")  # fmt: skip
        if gone and self.path:
            assert self.number is not None
            stored = read_measurement(self.path, self.number, self.name)  # N.1, or N_name in an older file
            arrays = {spec.fullname: stored[name] for spec, name in zip(specs, dataset_names(specs))}
        else:
            nodes = {node.fullname: node for node in self.node.walk(include_filter="channel", wait=False)
                     if isinstance(node, ChannelDataNode)}  # fmt: skip
            arrays = {spec.fullname: nodes[spec.fullname].get(0, -1) for spec in specs}
        views = {fullname: self._image_view(fullname, gone) for fullname in self._image_info}
        return ScanData(arrays, {channel.spec.fullname: channel.info.source for channel in channels}, views)

    def _image_view(self, fullname: str, gone: bool) -> LimaDataView:
        """From the Lima node in Redis; once Redis let the scan go, from the references the scan kept."""
        image_db = next(channel.spec.db_name for channel in self._channels if channel.spec.fullname == fullname)
        if not gone:
            return LimaNode(self._context.client, image_db, {"type": "lima"}).get(0, -1)
        kept = dict(self._image_info[fullname], frames=self._frames.frames[fullname])
        return LimaDataView(KeptLimaNode(self._context.client, image_db, kept), 0, -1, kept["frames"] - 1)

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
