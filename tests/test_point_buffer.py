"""Points go from the scan to a consumer in order, in batches, and a full buffer holds the scan back."""

import gevent

from bliss_shell.comm.point_buffer import PointBuffer


def test_points_arrive_in_order_as_columns_whatever_order_their_channels_come_in():
    buffer = PointBuffer(["x", "y"])
    buffer.add({"y": [10.0], "x": [0.0]}, 1)
    buffer.add({"x": [1.0, 2.0], "y": [11.0, 12.0], "not_mine": [5, 6]}, 2)
    assert buffer.take() == ([[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]], 3)
    assert buffer.take() == ([[], []], 0)


def test_a_full_buffer_makes_the_scan_wait_instead_of_dropping():
    buffer = PointBuffer(["x"], max_pending=3)
    scan = gevent.spawn(lambda: [buffer.add({"x": [i]}, 1) for i in range(5)])
    with gevent.Timeout(5):
        while buffer.pending < 3:
            gevent.sleep(0.001)
    assert not scan.dead  # waiting for the consumer
    first, _ = buffer.take()
    buffer.release()
    scan.join(timeout=5)
    second, _ = buffer.take()
    assert first[0] == [0, 1, 2] and second[0] == [3, 4]


def test_an_urgent_wake_ends_the_wait_between_two_batches():
    buffer = PointBuffer(["x"], min_interval=60.0)  # a batch at most every minute...
    buffer.wake(urgent=True)
    buffer.wait()
    consumer = gevent.spawn(buffer.wait)
    buffer.add({"x": [1.0]}, 1)
    gevent.sleep(0)  # the consumer now waits out min_interval before taking the point
    buffer.wake(urgent=True)  # ...unless nothing more will join the batch (the scan's end)
    consumer.join(timeout=5)
    assert consumer.dead and buffer.take() == ([[1.0]], 1)
