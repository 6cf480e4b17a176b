"""A scan's cameras: where their frames are, how many they took, and the links the file gets.

The consumer of the scan's Lima channels (``kind`` "lima"): once the cameras are prepared it numbers
each one's acquisition (the counter keyed by the server's URL, which blissdata 2's LimaClient reads too, so
a reader knows whether the server still holds the frames) and queues its references with the tree, and
the camera's blissdata 2 Lima stream in the scan's document; each point queues the cameras' frame counters
to their nodes (and to those streams); at the end it gives the file the frames to link and the abort message the frames taken;
``scan.get_data()`` gets its views of the frames from it, from the references it kept once Redis let
the scan go.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bliss_shell.controllers.lima_protocol import FrameReferences
from bliss_shell.data import LimaNode
from bliss_shell.data.lima_view import KeptLimaNode, LimaDataView, acquisition_key
from bliss_shell.writer import ImageFrames

from .consumers import Ending, ScanConsumer, ScanStart
from .records import Points, channel_fullname


class LimaFrames(ScanConsumer):
    """The cameras of one scan: their references in Redis, their frame counters per point, their frames' links.

    Examples
    --------
    A scan without a camera makes none:

    >>> from bliss_shell.scanning import current
    >>> token = current().consumers.subscribe(lambda start: print(lima_frames(start)), name="show")
    >>> s = loopscan(1, 0, diode)
    None
    >>> current().consumers.unsubscribe(token)
    """

    def __init__(self, start: ScanStart, cameras: dict[str, str]):
        self._start = start
        self._cameras = cameras  # image channel fullname -> its lima node's db_name
        self._frames = dict.fromkeys(cameras, 0)
        self._references: dict[str, tuple[FrameReferences, int]] = {}  # its frames, and the number of its acquisition

    def prepared(self) -> None:
        """Number each camera's acquisition and queue its references, to reach Redis with PREPARED."""
        client, publisher = self._start.context.client, self._start.publisher
        for device in (device for level in self._start.chain.levels() for device in level):
            for channel in device.channels:
                fullname = channel_fullname(device.name, channel.name)
                if fullname in self._cameras and channel.references is not None:
                    references = channel.references
                    number = int(client.incr(acquisition_key(references.server_url)))
                    self._references[fullname] = references, number
                    publisher.set_info(self._cameras[fullname], self._info(fullname))
                    publisher.add_lima(self._cameras[fullname], fullname, np.dtype(references.dtype),
                                       (references.height, references.width), lima_info(references, number))  # fmt: skip

    def add_points(self, points: Points, count: int) -> None:
        """Queue each camera's newest frame counters to its node; count its frames."""
        for fullname, db_name in self._cameras.items():
            counters = points[fullname][-1]
            self._start.publisher.lima_status(db_name, counters)
            self._frames[fullname] = counters["last_image_ready"] + 1

    def end(self, ending: Ending) -> None:
        """Tell the frames each camera took, and give the file the frames each one saved."""
        for fullname, count in self._frames.items():
            ending.taken[fullname.split(":")[0]] = count
        for fullname, (references, _) in self._references.items():
            if references.saved:
                ending.images.append(_saved_frames(fullname, references, self._frames[fullname]))

    def data_views(self, expired: bool) -> dict[str, Any]:
        """Each camera's frames: from its node in Redis; once Redis let the scan go, from the references kept."""
        client = self._start.context.client
        views: dict[str, Any] = {}
        for fullname in self._references:
            db_name = self._cameras[fullname]
            if not expired:
                views[fullname] = LimaNode(client, db_name, {"type": "lima"}).get(0, -1)
            else:
                kept = KeptLimaNode(client, db_name, dict(self._info(fullname), frames=self._frames[fullname]))
                views[fullname] = LimaDataView(kept, 0, -1, self._frames[fullname] - 1)
        return views

    def _info(self, fullname: str) -> dict[str, Any]:
        """A camera's lima node info: its frame references and the number of its acquisition on its server."""
        references, number = self._references[fullname]
        return dict(references.as_info(), lima_acq_nb=number)


def lima_frames(start: ScanStart) -> LimaFrames | None:
    """The consumer of the scan's cameras; None when it counts none."""
    cameras = {channel.spec.fullname: channel.spec.db_name for channel in start.channels if channel.info.kind == "lima"}
    return LimaFrames(start, cameras) if cameras else None


def lima_info(references: FrameReferences, number: int) -> dict[str, Any]:
    """The ``lima_info`` of a camera's blissdata 2 Lima stream: where blissdata's LimaClient finds each frame.

    One acquisition per scan (``frame_per_acquisition`` 0), numbered ``number`` on its server; saved frames
    are in files ``file_path % (file_offset + k)``, ``frame_per_file`` each.

    Examples
    --------
    >>> refs = FrameReferences("tango://localhost:10000/id00/limaccds/cam", 32, 24, "uint16", "entry_0000/measurement/data",
    ...                        saving_mode="AUTO_FRAME", saving_directory="/data/scan0001", saving_prefix="cam_",
    ...                        saving_next_number=3, saving_frame_per_file=10, buffer_max_number=64)
    >>> lima_info(refs, 7)
    {'server_url': 'tango://localhost:10000/id00/limaccds/cam', 'buffer_max_number': 64, 'frame_per_acquisition': 0,
     'acquisition_offset': 7, 'file_path': '/data/scan0001/cam_%04d.h5', 'data_path': 'entry_0000/measurement/data',
     'file_format': 'HDF5', 'file_offset': 3, 'frame_per_file': 10}
    """
    info: dict[str, Any] = {
        "server_url": references.server_url,
        "buffer_max_number": references.buffer_max_number,  # the frames a reader may take from the server's memory
        "frame_per_acquisition": 0,  # one acquisition per scan: blissdata's LimaClient then counts frames in it
        "acquisition_offset": number,
    }
    if references.saved:

        def literal(text: str) -> str:
            return text.replace("%", "%%")

        info.update(
            file_path=literal(f"{references.saving_directory}/{references.saving_prefix}")
            + references.saving_index_format
            + literal(references.saving_suffix),
            data_path=references.frame_path,
            file_format=references.saving_format,
            file_offset=int(references.saving_next_number),
            frame_per_file=max(1, int(references.saving_frame_per_file)),
        )
    return info


def _saved_frames(fullname: str, references: FrameReferences, frames: int) -> ImageFrames:
    """The files a camera saved its ``frames`` frames to, and how many each holds."""
    shape = (references.height, references.width)
    return ImageFrames(fullname.split(":")[0], references.frame_path, shape, references.dtype,
                       references.saved_files(frames))  # fmt: skip
