"""Reading a scan back as BLISS scripts do: get_as_array, node[i], fullname, a Lima view as a sequence of frames,
and the message of every index that is not one. Real scans, a real Redis, a real Lima simulator server."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bliss_shell.data import get_node
from test_tango import open_tango_session, simulator  # noqa: F401  (simulator: the module's simulator server)

PAST_THE_END = r"no point {}: the channel has 5 points \(indexes 0 to 4, or -5 to -1 from the end\)"


@pytest.fixture
def diode(session):
    """The diode channel of a finished five-point loopscan."""
    scan = session["loopscan"](5, 0, session["diode"])
    return get_node(f"{scan.node.db_name}:timer:diode:diode")


@pytest.fixture
def lima_scan(simulator, redis_client, tmp_path):  # noqa: F811
    """A finished five-frame loopscan of lima_simulator, and its lima node."""
    session = open_tango_session(simulator, redis_client, tmp_path)
    scan = session["loopscan"](5, 0.01, session["lima_simulator"])
    return scan, next(scan.node.walk(include_filter="lima", wait=False))


def test_get_as_array_is_get_as_numpy_with_the_same_inclusive_indexes(diode):
    every = diode.get(0, -1)
    whole = diode.get_as_array(0, -1)
    assert isinstance(whole, np.ndarray) and whole.dtype == diode.dtype and np.array_equal(whole, every)
    assert diode.get_as_array(1, 3).tolist() == every[1:4].tolist()  # to_index included, as in get
    assert diode.get_as_array(-2, -1).tolist() == every[-2:].tolist()
    assert diode.get_as_array(2, 100).tolist() == every[2:].tolist() and diode.get_as_array(3, 1).shape == (0,)
    last = diode.get_as_array(-1)
    assert isinstance(last, np.ndarray) and last.shape == () and last == every[-1]
    with pytest.raises(IndexError, match=f"diode:diode: {PAST_THE_END.format(5)}"):
        diode.get_as_array(5)


def test_get_as_array_of_a_spectrum_channel_is_points_by_bins(session):
    scan = session["loopscan"](4, 0.001, session["simu1"])
    spectra = get_node(f"{scan.node.db_name}:timer:simu1:simu1")
    assert spectra.get_as_array(0, -1).shape == (4, 16) and spectra.get_as_array(1, 2).shape == (2, 16)
    assert spectra.get_as_array(-1).shape == (16,) and np.array_equal(spectra.get_as_array(-1), scan.get_data()["simu1"][-1])


def test_indexing_a_channel_node_is_python_indexing(diode):
    every = diode.get(0, -1)
    assert diode[0] == every[0] and diode[-1] == every[4] and diode[-5] == every[0] and diode[np.int64(2)] == every[2]
    assert diode[::-1].tolist() == every[::-1].tolist() and diode[3:0:-2].tolist() == every[3:0:-2].tolist()
    assert diode[::2].tolist() == every[::2].tolist() and diode[4:100].tolist() == [every[4]] and diode[7:].shape == (0,)
    for index in (5, -6, 10**20):
        with pytest.raises(IndexError, match=f"^diode:diode: {PAST_THE_END.format(index)}$"):
            diode[index]


def test_an_index_that_is_not_one_is_refused_naming_the_channel_and_what_to_type(diode):
    usage = r"node\[0\] is the first point, node\[-1\] the last, node\[2:5\] points 2 to 4"
    for index in ("1", 1.0, True, None, [1]):
        with pytest.raises(TypeError, match=rf"^diode:diode: indexes are whole numbers, not {re.escape(repr(index))}: {usage}$"):
            diode[index]
    with pytest.raises(TypeError, match=r"^diode:diode: indexes are whole numbers, not 'a': node"):
        diode[1:"a"]
    with pytest.raises(ValueError, match=r"^diode:diode: a slice step cannot be 0: node"):
        diode[::0]


def test_an_index_of_get_that_is_not_one_says_what_get_takes(diode, lima_scan):  # None is the first: BLISS's rule
    usage = r"get\(0\) is the first, get\(-1\) the last, get\(0, -1\) all of them"
    _, lima_node = lima_scan
    cases = [(diode.get, (1.5,)), (diode.get, (0, "2")), (diode.get_as_array, ("0", -1)), (lima_node.get, (0, 1.0))]
    for get, args in cases:
        bad = next(arg for arg in args if not isinstance(arg, int))
        with pytest.raises(TypeError, match=rf"^\w+:\w+\.get: indexes are whole numbers, not {re.escape(repr(bad))}: {usage}$"):
            get(*args)
    assert diode.get(0, None) == diode.get(0)  # to_index None is one value, as BLISS documents


def test_a_lima_node_fullname_is_detector_and_channel_as_the_get_data_key(lima_scan):
    scan, lima_node = lima_scan
    assert lima_node.fullname == "lima_simulator:image" and lima_node.short_name == "image"
    assert lima_node.fullname == f"{lima_node.parent.name}:{lima_node.name}"  # as channels: controller:channel
    assert len(scan.get_data()[lima_node.fullname]) == 5
    counter = get_node(f"{scan.node.db_name}:timer:elapsed_time")
    assert counter.fullname == f"{counter.parent.name}:{counter.short_name}" == "timer:elapsed_time"


def test_a_lima_view_is_a_sequence_of_numpy_frames(lima_scan):
    scan, lima_node = lima_scan
    view = lima_node.get(0, -1)
    frames = list(view)
    assert len(view) == len(frames) == 5
    assert all(
        isinstance(frame, np.ndarray) and frame.shape == (lima_node.info["height"], lima_node.info["width"]) for frame in frames
    )
    assert all(np.array_equal(frame, view.get_image(i)) for i, frame in enumerate(frames))
    assert np.array_equal(view[-1], frames[4]) and np.array_equal(view[-5], frames[0])
    sliced = view[2:5]
    assert isinstance(sliced, np.ndarray) and np.array_equal(sliced, np.stack(frames[2:5]))  # one array, as in BLISS
    assert np.array_equal(view[::-2], np.stack(frames[::-2])) and len(view[7:]) == 0
    assert np.array_equal(view.as_array(), np.stack(frames)) and np.array_equal(lima_node.get(1).as_array(), frames[1])
    assert np.array_equal(lima_node.get_as_array(0, -1).mean(axis=0), np.mean(frames, axis=0))
    assert np.array_equal(lima_node.get_as_array(2), frames[2])
    part = lima_node.get(1, 3)  # frames 1, 2 and 3: indexes count from the view's first frame
    assert len(part) == 3 and np.array_equal(part[0], frames[1]) and np.array_equal(part[-1], frames[3])
    assert [f.tobytes() for f in part] == [f.tobytes() for f in frames[1:4]]
    assert len(lima_node.get(-10, -1)) == 5 and len(lima_node.get(-10)) == 0  # a range starts at 0 at the earliest
    assert [f.tobytes() for f in scan.get_data()["lima_simulator:image"]] == [f.tobytes() for f in frames]


def test_a_lima_view_refuses_what_it_does_not_hold_with_its_frames(lima_scan):
    _, lima_node = lima_scan
    view, part, empty = lima_node.get(0, -1), lima_node.get(1, 3), lima_node.get(10)
    past = [
        (view, 5, r"no frame 5 in <LimaDataView lima_simulator frames 0\.\.4> \(indexes 0 to 4, or -5 to -1 from the end\)"),
        (view, -6, r"no frame -6 in <LimaDataView lima_simulator frames 0\.\.4> \(indexes 0 to 4, or -5 to -1 from the end\)"),
        (part, 3, r"no frame 3 in <LimaDataView lima_simulator frames 1\.\.3> \(indexes 0 to 2, or -3 to -1 from the end\)"),
        (empty, 0, r"no frame 0 in <LimaDataView lima_simulator frames 10\.\.10> \(none yet\)"),
    ]
    for frames, index, message in past:
        with pytest.raises(IndexError, match=f"^lima_simulator:image: {message}$"):
            frames[index]
    assert list(empty) == [] and len(empty) == 0
    usage = r"view\[0\] is the first frame, view\[-1\] the last, view\[2:5\] frames 2 to 4"
    for index in ("1", 1.5, None):
        with pytest.raises(
            TypeError, match=rf"^lima_simulator:image: indexes are whole numbers, not {re.escape(repr(index))}: {usage}$"
        ):
            view[index]
    with pytest.raises(ValueError, match=r"^lima_simulator:image: a slice step cannot be 0"):
        view[::0]
    with pytest.raises(TypeError, match=r"^lima_simulator:image\.get_image: indexes are whole numbers, not '1': get_image\(0\)"):
        view.get_image("1")
