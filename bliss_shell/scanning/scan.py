"""A scan: a description (what to move where, what to count, how long) and the engine that runs it.

The tree it publishes follows the BLISS documentation: a top master ``axis`` holding one
channel per motor and the ``timer`` master (``elapsed_time`` and one node per counter
controller), or ``timer`` on top when nothing moves.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import gevent
import numpy as np
import redis

from bliss_shell.controllers import Axis, Counter, Detector, looks_like
from bliss_shell.controllers.lima_protocol import saved_frame
from bliss_shell.data import LimaNode, ScanNode, get_node
from bliss_shell.data.lima_view import KeptLimaNode, LimaDataView, acquisition_key
from bliss_shell.data.publisher import ChannelSpec, ScanPublisher, ensure_container, register_session

from bliss_shell.writer import ImageFrames, NexusScanWriter, check_target, dataset_names, highest_scan_number, read_measurement

from .context import ScanContext
from .scan_data import ScanData
from .scan_tools import goto_measure, measure
from .tables import position


_FILE_STATUS = {"done": "SUCCEEDED", "aborted": "ABORTED", "failed": "FAILED"}


@dataclass
class ScanPlan:
    """What a scan does, decided before anything moves.

    ``positions`` has one row per point and one column per axis; ``npoints`` 0 means
    "until interrupted" (timescan).
    """

    name: str
    title: str
    axes: list[Axis]
    positions: np.ndarray
    counters: list[Counter]
    count_time: float
    npoints: int
    save: bool = True
    sleep_time: float = 0.0
    scan_info: dict[str, Any] = field(default_factory=dict)
    return_to: dict[Axis, float] | None = None  # dscan: where the motors go back afterwards
    detectors: list[Detector] = field(default_factory=list)  # 2D detectors: one frame per point


@dataclass(frozen=True)
class _Channel:
    spec: ChannelSpec
    source: Any  # the Axis or Counter the values come from, None for elapsed_time


class Scan:
    """One scan of the session; goes into ``SCANS`` when it starts.

    Example
    -------
    >>> s = ascan(roby, 0, 9, 10, 0.1, diode)
    >>> s.get_data()["diode"]
    """

    def __init__(self, context: ScanContext, plan: ScanPlan):
        self._context = context
        self.plan = plan
        self.name = plan.name
        self._reach_redis()  # SCAN_SAVING, read next, lives in Redis
        self.number: int | None = None
        self.path = context.scan_saving.filename if plan.save else None
        self.node = None
        self.state = "idle"
        self._channels: list[_Channel] = []
        self._images: list[tuple[Detector, str]] = []
        self._image_info: dict[str, dict] = {}  # image node db_name: references, and frames ready so far
        self._in_redis_whole = True  # False when Redis missed points (unreachable, memory cap): read the file

    def __repr__(self) -> str:
        return f"Scan(number={self.number}, name={self.name}, path={self.path or '<no saving>'})"

    def run(self) -> Scan:
        """Publish the tree and write the file, take every point, end both; Ctrl-C ends it as aborted."""
        if self.state != "idle":
            raise RuntimeError(f"{self!r} has already run; start a new scan")
        self._reach_redis()
        saving = self._context.scan_saving
        self.path = saving.filename if self.plan.save else None  # SCAN_SAVING as it is now, like the tree
        if self.path:
            check_target(self.path)  # before anything is numbered, moved or published
        self.state = "running"
        db_name = self._number_and_place()
        self._context.scans.append(self)
        parents = [db_name.rsplit(":", 1)[0], self._context.session]
        publisher = ScanPublisher(self._context.client, retention=self._context.retention, parents=parents)
        start = datetime.now().astimezone()
        images = self._prepare_detectors(db_name)
        self._publish_tree(publisher, db_name, start)
        for image_db, description in images.items():
            detector_db = image_db.rsplit(":", 1)[0]
            publisher.add_node(detector_db, detector_db.rsplit(":", 1)[1], "container", db_name)
            publisher.add_node(image_db, "image", "lima", detector_db, info=description)
        publisher.prepared(db_name)
        self.node = ScanNode(self._context.client, db_name, {"name": db_name.rsplit(":", 1)[1], "type": "scan"})
        writer = self._writer(db_name) if self.path else None
        shown = self._context.watch(db_name) if self._context.watch else None
        state, reason = "done", ""
        try:
            if writer is not None:
                writer.start(self.plan.title, start, self._positioners(), self._info(start, None, 0))
            self._acquire(publisher, writer)
        except (KeyboardInterrupt, gevent.GreenletExit):
            state, reason = "aborted", "interrupted by user (Ctrl-C)"
            raise
        except BaseException as error:
            state, reason = "failed", f"{type(error).__name__}: {error}"
            raise
        finally:
            # A second Ctrl-C while stopping skips the waits (devices, display, dscan's return);
            # the file and Redis still say how the scan ended.
            forced = False
            try:
                late_failures = self._stop_devices()
            except KeyboardInterrupt:
                late_failures, forced = [], True
            if late_failures and state == "done":
                state, reason = "failed", "; ".join(late_failures)
            end = datetime.now().astimezone()
            info = self._info(start, end, publisher.points)
            if writer is not None:
                forced |= _shielded(lambda: writer.end(_FILE_STATUS[state], reason, end, self._positioners(), info, self._image_frames()))
                if writer.failure and state == "done":
                    late_failures.append(writer.failure)
                    state, reason = "failed", writer.failure
            self.state = state
            publisher.set_info(db_name, info)
            forced |= _shielded(lambda: publisher.end(db_name, state, reason))
            self._in_redis_whole = publisher.complete
            try:
                self.node = get_node(db_name, self._context.client) or self.node
            except redis.RedisError:  # Redis went away during the scan: the file has it all
                pass
            if shown is not None and not forced:
                try:
                    shown()
                except KeyboardInterrupt:
                    forced = True
            if state == "aborted":
                print(self._where_things_stand(forced))
            if not forced:
                self._return_motors()
        if late_failures:  # every point was taken, but a device did not stop or the file is incomplete
            raise RuntimeError(reason)
        return self

    def _where_things_stand(self, forced: bool) -> str:
        """After Ctrl-C: where each motor stopped and how many frames each detector took."""
        lines = [f"Scan {self.number} aborted{' (forced: not waiting for the devices)' if forced else ''}."]
        for axis in self.plan.axes:
            going_back = f", going back to {position(self.plan.return_to[axis])}" if self.plan.return_to and not forced else ""
            lines.append(f"  {axis.name} stopped at {position(axis.position)}{going_back}")
        for image_db, info in self._image_info.items():
            lines.append(f"  {image_db.split(':')[-2]}: {info['frames']} frames taken")
        return "\n".join(lines)

    def _reach_redis(self) -> None:
        """Before anything moves: Redis numbers the scan. The embedded one is started again if it died."""
        try:
            self._context.client.ping()
            return
        except redis.ConnectionError as error:
            if self._context.revive is None:
                raise RuntimeError(f"{self.name}: Redis is unreachable ({error}); nothing was moved. Start it "
                                   "again, or check BLISS_REDIS_URL / redis_url in the config") from None  # fmt: skip
            reason = error
        try:
            self._context.revive()
            self._context.client.ping()
        except Exception as error:
            raise RuntimeError(f"{self.name}: Redis is unreachable ({reason}) and could not be started again "
                               f"({error}); nothing was moved") from None  # fmt: skip

    def _stop_devices(self) -> list[str]:
        """Stop every motor and detector of the scan; one that fails (its server died) does not stop the rest."""
        failures = []
        for device in (*self.plan.axes, *self.plan.detectors):
            try:
                device.stop()
            except Exception as error:  # reported in the scan's end reason, or raised if the scan went well
                failures.append(str(error))
        return failures

    def _prepare_detectors(self, db_name: str) -> dict[str, dict]:
        """Set each detector up; return its image node's db_name and references (never pixels)."""
        images = {}
        folder = os.path.join(os.path.dirname(self.path), f"scan{self.number:04d}") if self.path else None
        for detector in self.plan.detectors:
            description = detector.prepare(self.plan.npoints, self.plan.count_time, folder)
            description["lima_acq_nb"] = int(self._context.client.incr(acquisition_key(description["server_url"])))
            images[f"{db_name}:{detector.name}:image"] = description
        self._images = list(zip(self.plan.detectors, images))
        self._image_info = {image_db: dict(description, frames=0) for image_db, description in images.items()}
        return images

    def _image_frames(self) -> list[ImageFrames]:
        """The frames each detector saved, for the links in the scan's file."""
        frames = []
        for image_db, info in self._image_info.items():
            if info["saving_mode"] != "AUTO_FRAME":
                continue
            files: dict[str, int] = {}
            for index in range(info["frames"]):
                path, _ = saved_frame(info, index)
                files[path] = files.get(path, 0) + 1
            detector = image_db.split(":")[-2]
            frames.append(ImageFrames(detector, info["frame_path"], (info["height"], info["width"]), info["dtype"], list(files.items())))
        return frames

    def _writer(self, db_name: str) -> NexusScanWriter:
        specs = [channel.spec for channel in self._channels]
        names = dict(zip((spec.fullname for spec in specs), dataset_names(specs)))
        axes = [names[f"axis:{axis.name}"] for axis in self.plan.axes]
        first = next((c.spec for c in self._channels if isinstance(c.source, Counter) and not c.spec.shape), None)
        signal = names[first.fullname] if first else None  # the plot silx draws on open
        return NexusScanWriter(self.path, db_name.rsplit(":", 1)[1], specs, plot=(signal, axes))

    def _positioners(self) -> dict[str, float]:
        """Every motor of the session, for instrument/positioners; NaN for one that cannot be read."""
        positions = {}
        for value in list(self._context.namespace.values()):
            if looks_like(value, Axis):
                try:
                    positions[value.name] = value.position
                except Exception:  # its server is gone: the position is unknown, the scan's own error says why
                    positions[value.name] = math.nan
        return positions

    def _number_and_place(self) -> str:
        client, saving = self._context.client, self._context.scan_saving
        directory, directory_name = saving.directory_db_name()
        register_session(client, self._context.session)  # again: it expires a retention time after its last scan
        ensure_container(client, directory, directory_name, self._context.session)
        if self.plan.save:
            counter = f"node|{directory}"
            self.number = int(client.hincrby(counter, "last_scan_number", 1))
            in_file = highest_scan_number(self.path)
            if self.number <= in_file:  # Redis lost the counter, or another one numbered into this file
                self.number = int(client.hincrby(counter, "last_scan_number", in_file + 1 - self.number))
            return f"{directory}:{self.number}_{self.name}"
        self.number = int(client.hincrby(f"node|{self._context.session}", "last_unsaved_scan_number", 1))
        return f"{directory}:_{self.number}_{self.name}"

    def _publish_tree(self, publisher: ScanPublisher, db_name: str, start: datetime) -> None:
        parent = db_name.rsplit(":", 1)[0]
        publisher.add_node(db_name, db_name.rsplit(":", 1)[1], "scan", parent, info=self._info(start, None, 0))
        timer = f"{db_name}:axis:timer" if self.plan.axes else f"{db_name}:timer"
        if self.plan.axes:
            publisher.add_node(f"{db_name}:axis", "axis", "container", db_name)
            for axis in self.plan.axes:
                spec = ChannelSpec(f"{db_name}:axis:{axis.name}", axis.name, f"axis:{axis.name}", np.dtype("float64"), (), axis.unit)
                self._add_channel(publisher, spec, f"{db_name}:axis", axis)
        publisher.add_node(timer, "timer", "container", timer.rsplit(":", 1)[0])
        elapsed = ChannelSpec(f"{timer}:elapsed_time", "elapsed_time", "timer:elapsed_time", np.dtype("float64"), (), "s")
        self._add_channel(publisher, elapsed, timer, None)
        for controller in dict.fromkeys(c.controller_name for c in self.plan.counters):
            controller_db = f"{timer}:{controller}"
            publisher.add_node(controller_db, controller, "container", timer)
            for counter in (c for c in self.plan.counters if c.controller_name == controller):
                spec = ChannelSpec(
                    f"{controller_db}:{counter.name}",
                    counter.name,
                    f"{controller}:{counter.name}",
                    np.dtype(counter.dtype),
                    tuple(counter.shape),
                    counter.unit,
                )
                self._add_channel(publisher, spec, controller_db, counter)

    def _add_channel(self, publisher: ScanPublisher, spec: ChannelSpec, parent: str, source: Any) -> None:
        publisher.add_channel(spec, parent)
        self._channels.append(_Channel(spec, source))

    def _acquire(self, publisher: ScanPublisher, writer: NexusScanWriter | None) -> None:
        """Take the points; each goes to both peers, the publisher and the file writer."""
        consumers: list[Any] = [publisher] if writer is None else [publisher, writer]
        plan = self.plan
        t0 = None  # elapsed_time counts from the first point, once the motors got there
        index = 0
        while plan.npoints == 0 or index < plan.npoints:
            if plan.axes:
                targets = plan.positions[index]
                for axis, target in zip(plan.axes, targets):
                    axis.move(float(target), wait=False)
                for axis in plan.axes:
                    axis.wait_move()
            now = time.monotonic()
            t0 = now if t0 is None else t0
            elapsed = now - t0
            for detector in plan.detectors:
                detector.start_point()
            gevent.sleep(plan.count_time)  # counting; also lets the publisher send
            values = [axis.position for axis in plan.axes]
            values.append(elapsed)
            values.extend(counter.read(plan.count_time) for counter in plan.counters)
            for consumer in consumers:
                consumer.add_point(values)
            for detector, image_db in self._images:
                status = detector.wait_point(index)
                publisher.lima_status(image_db, status)
                self._image_info[image_db]["frames"] = status["last_image_ready"] + 1
            if plan.sleep_time:
                gevent.sleep(plan.sleep_time)
            index += 1

    def _return_motors(self) -> None:
        if self.plan.return_to:
            for axis, target in self.plan.return_to.items():
                axis.move(target, wait=False)
            for axis in self.plan.return_to:
                axis.wait_move()

    def _info(self, start: datetime, end: datetime | None, points: int) -> dict[str, Any]:
        plan = self.plan
        info = {
            "title": plan.title,
            "type": plan.name,
            "npoints": plan.npoints,
            "count_time": plan.count_time,
            "session_name": self._context.session,
            "filename": self.path,
            "save": plan.save,
            "start_time": start.isoformat(),
            "motors": [axis.name for axis in plan.axes],
            "counters": [counter.name for counter in plan.counters],
            "points_acquired": points,
        }
        if end is not None:
            info["end_time"] = end.isoformat()
        info.update(plan.scan_info)
        return info

    def get_data(self) -> ScanData:
        """Every channel as a numpy array, keyed by short name (fullname where two clash)."""
        if self.node is None:
            raise RuntimeError(f"{self!r} has not run yet: call .run()")
        specs = [channel.spec for channel in self._channels]
        gone = not self._in_redis_whole or get_node(self.node.db_name, self._context.client) is None
        if gone and self.path:  # Redis lost it (retention, memory cap) or never had all of it
            stored = read_measurement(self.path, self.node.name)
            arrays = {spec.fullname: stored[name] for spec, name in zip(specs, dataset_names(specs))}
        else:
            nodes = {node.fullname: node for node in self.node.walk(include_filter="channel", wait=False)}
            arrays = {spec.fullname: nodes[spec.fullname].get(0, -1) for spec in specs}
        views = {f"{detector.name}:image": self._image_view(db, gone) for detector, db in self._images}
        return ScanData(arrays, {channel.spec.fullname: channel.source for channel in self._channels}, views)

    def _image_view(self, image_db: str, gone: bool) -> LimaDataView:
        """From the Lima node in Redis; once Redis let the scan go, from the references the scan kept."""
        if not gone:
            return LimaNode(self._context.client, image_db, {"type": "lima"}).get(0, -1)
        kept = self._image_info[image_db]
        return LimaDataView(KeptLimaNode(self._context.client, image_db, kept), 0, -1, kept["frames"] - 1)

    # Peak tools on this scan: counter defaults to plotselect's choice, axis to the first scanned motor.
    def cen(self, counter: Any = None, axis: Any = None) -> float:
        return measure("cen", self, counter, axis)

    def fwhm(self, counter: Any = None, axis: Any = None) -> float:
        return measure("fwhm", self, counter, axis)

    def peak(self, counter: Any = None, axis: Any = None) -> float:
        return measure("peak", self, counter, axis)

    def com(self, counter: Any = None, axis: Any = None) -> float:
        return measure("com", self, counter, axis)

    def goto_cen(self, counter: Any = None, axis: Any = None) -> float:
        return goto_measure("cen", self, counter, axis)

    def goto_peak(self, counter: Any = None, axis: Any = None) -> float:
        return goto_measure("peak", self, counter, axis)

    def goto_com(self, counter: Any = None, axis: Any = None) -> float:
        return goto_measure("com", self, counter, axis)


def _shielded(step: Any) -> bool:
    """Run a step that Ctrl-C must not cut short (it writes how the scan ended); True if Ctrl-C came meanwhile."""
    def run() -> BaseException | None:
        try:
            step()
        except BaseException as error:  # handed to the scan's greenlet, which reports it
            return error
        return None

    worker = gevent.spawn(run)
    interrupted = False
    while True:
        try:
            error = worker.get()
        except KeyboardInterrupt:
            interrupted = True
            continue
        if error is not None:
            raise error
        return interrupted
