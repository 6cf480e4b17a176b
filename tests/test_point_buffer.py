"""Points go from the scan to a consumer in order, in batches, and a full buffer holds the scan back."""

import gevent

from bliss_shell.comm.point_buffer import PointBuffer


def test_points_arrive_in_order_as_columns():
    buffer = PointBuffer(width=2)
    buffer.add([0.0, 10.0])
    buffer.add([1.0, 11.0])
    assert buffer.take() == ([[0.0, 1.0], [10.0, 11.0]], 2)
    assert buffer.take() == ([[], []], 0)


def test_a_full_buffer_makes_the_scan_wait_instead_of_dropping():
    buffer = PointBuffer(width=1, max_pending=3)
    scan = gevent.spawn(lambda: [buffer.add([i]) for i in range(5)])
    gevent.sleep(0.05)
    assert buffer.pending == 3 and not scan.dead  # waiting for the consumer
    first, _ = buffer.take()
    buffer.release()
    scan.join(timeout=1)
    second, _ = buffer.take()
    assert first[0] == [0, 1, 2] and second[0] == [3, 4]
