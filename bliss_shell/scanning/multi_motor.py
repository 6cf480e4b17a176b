"""Scans of three to five motors together, as BLISS's ``a3scan`` .. ``a5scan`` and ``d3scan`` .. ``d5scan``.

Each is ``anscan`` (absolute) or ``dnscan`` (relative, the motors go back where they were) with the
motors, starts and stops given one after the other, as ``a2scan`` takes them. As every scan here,
``npoints`` is the number of points (BLISS 1.11 takes intervals: one point more).
"""

from __future__ import annotations

from typing import Any

from bliss_shell.controllers import Axis

from .commands import anscan, dnscan, scan_together
from .scan import Scan


def a3scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Absolute scan of three motors together, each from its start to its stop, through ``npoints`` points.

    Parameters
    ----------
    m1 : Axis
        Motor 1.
    s1, e1 : float
        Its first and last positions.
    m2 : Axis
        Motor 2.
    s2, e2 : float
        Its first and last positions.
    m3 : Axis
        Motor 3.
    s3, e3 : float
        Its first and last positions.
    npoints : int
        The number of points, >= 1, the same for every motor.
    count_time : float
        Seconds counted at each point, >= 0.
    *counters : Counter or MeasurementGroup
        What to count; none: ``ACTIVE_MG``'s enabled counters.
    **options
        The options of every scan (``name``, ``title``, ``save``, ``run``, ``return_scan``, ``scan_info``,
        ``sleep_time``): see ``help(ascan)``.

    Returns
    -------
    Scan or None
        The scan, in ``SCANS`` too (None with ``return_scan=False``).

    Examples
    --------
    >>> s = a3scan(roby, 0, 1, robz, 5, 6, slowy, 0, 0.2, 3, 0.01, diode)
    >>> s.get_data()["slowy"]
    array([0. , 0.1, 0.2])
    """
    return scan_together("a3scan", anscan, [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3)], npoints, count_time, counters, options)


def a4scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           m4: Axis, s4: float, e4: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Absolute scan of four motors together, each from its start to its stop, through ``npoints`` points.

    Parameters
    ----------
    m1 : Axis
        Motor 1.
    s1, e1 : float
        Its first and last positions.
    m2 : Axis
        Motor 2.
    s2, e2 : float
        Its first and last positions.
    m3 : Axis
        Motor 3.
    s3, e3 : float
        Its first and last positions.
    m4 : Axis
        Motor 4.
    s4, e4 : float
        Its first and last positions.
    npoints : int
        The number of points, >= 1, the same for every motor.
    count_time : float
        Seconds counted at each point, >= 0.
    *counters : Counter or MeasurementGroup
        What to count; none: ``ACTIVE_MG``'s enabled counters.
    **options
        The options of every scan (``name``, ``title``, ``save``, ``run``, ``return_scan``, ``scan_info``,
        ``sleep_time``): see ``help(ascan)``.

    Returns
    -------
    Scan or None
        The scan, in ``SCANS`` too (None with ``return_scan=False``).

    Examples
    --------
    >>> a4scan(roby, 0, 1, robz, 0, 2, slowy, 0, 3, m4, 0, 4, 11, 0.1, diode)  # doctest: +SKIP
    """
    return scan_together(
        "a4scan", anscan, [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3), (m4, s4, e4)], npoints, count_time, counters, options
    )


def a5scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           m4: Axis, s4: float, e4: float, m5: Axis, s5: float, e5: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Absolute scan of five motors together, each from its start to its stop, through ``npoints`` points.

    Parameters
    ----------
    m1 : Axis
        Motor 1.
    s1, e1 : float
        Its first and last positions.
    m2 : Axis
        Motor 2.
    s2, e2 : float
        Its first and last positions.
    m3 : Axis
        Motor 3.
    s3, e3 : float
        Its first and last positions.
    m4 : Axis
        Motor 4.
    s4, e4 : float
        Its first and last positions.
    m5 : Axis
        Motor 5.
    s5, e5 : float
        Its first and last positions.
    npoints : int
        The number of points, >= 1, the same for every motor.
    count_time : float
        Seconds counted at each point, >= 0.
    *counters : Counter or MeasurementGroup
        What to count; none: ``ACTIVE_MG``'s enabled counters.
    **options
        The options of every scan (``name``, ``title``, ``save``, ``run``, ``return_scan``, ``scan_info``,
        ``sleep_time``): see ``help(ascan)``.

    Returns
    -------
    Scan or None
        The scan, in ``SCANS`` too (None with ``return_scan=False``).

    Examples
    --------
    >>> a5scan(roby, 0, 1, robz, 0, 2, slowy, 0, 3, m4, 0, 4, m5, 0, 5, 11, 0.1, diode)  # doctest: +SKIP
    """
    return scan_together(
        "a5scan",
        anscan,
        [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3), (m4, s4, e4), (m5, s5, e5)],
        npoints,
        count_time,
        counters,
        options,
    )


def d3scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Relative scan of three motors together: ``a3scan`` around where they are; they go back there afterwards.

    Parameters
    ----------
    m1 : Axis
        Motor 1.
    s1, e1 : float
        Its first and last positions, relative to where it is.
    m2 : Axis
        Motor 2.
    s2, e2 : float
        Its first and last positions, relative to where it is.
    m3 : Axis
        Motor 3.
    s3, e3 : float
        Its first and last positions, relative to where it is.
    npoints : int
        The number of points, >= 1, the same for every motor.
    count_time : float
        Seconds counted at each point, >= 0.
    *counters : Counter or MeasurementGroup
        What to count; none: ``ACTIVE_MG``'s enabled counters.
    **options
        The options of every scan (``name``, ``title``, ``save``, ``run``, ``return_scan``, ``scan_info``,
        ``sleep_time``): see ``help(ascan)``.

    Returns
    -------
    Scan or None
        The scan, in ``SCANS`` too (None with ``return_scan=False``).

    Examples
    --------
    >>> mv(roby, 2, robz, 5, slowy, 0)
    Moving roby from ... to 2.00000
    Moving robz from ... to 5.00000
    Moving slowy from ... to 0.00000
    >>> s = d3scan(roby, -1, 1, robz, -0.5, 0.5, slowy, 0, 0.2, 3, 0.01, diode)
    >>> s.get_data()["robz"]
    array([4.5, 5. , 5.5])
    >>> roby.position, robz.position, slowy.position
    (2.0, 5.0, 0.0)
    """
    return scan_together("d3scan", dnscan, [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3)], npoints, count_time, counters, options)


def d4scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           m4: Axis, s4: float, e4: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Relative scan of four motors together: ``a4scan`` around where they are; they go back there afterwards.

    Parameters
    ----------
    m1 : Axis
        Motor 1.
    s1, e1 : float
        Its first and last positions, relative to where it is.
    m2 : Axis
        Motor 2.
    s2, e2 : float
        Its first and last positions, relative to where it is.
    m3 : Axis
        Motor 3.
    s3, e3 : float
        Its first and last positions, relative to where it is.
    m4 : Axis
        Motor 4.
    s4, e4 : float
        Its first and last positions, relative to where it is.
    npoints : int
        The number of points, >= 1, the same for every motor.
    count_time : float
        Seconds counted at each point, >= 0.
    *counters : Counter or MeasurementGroup
        What to count; none: ``ACTIVE_MG``'s enabled counters.
    **options
        The options of every scan (``name``, ``title``, ``save``, ``run``, ``return_scan``, ``scan_info``,
        ``sleep_time``): see ``help(ascan)``.

    Returns
    -------
    Scan or None
        The scan, in ``SCANS`` too (None with ``return_scan=False``).

    Examples
    --------
    >>> d4scan(roby, -1, 1, robz, -1, 1, slowy, -1, 1, m4, -1, 1, 11, 0.1, diode)  # doctest: +SKIP
    """
    return scan_together(
        "d4scan", dnscan, [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3), (m4, s4, e4)], npoints, count_time, counters, options
    )


def d5scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           m4: Axis, s4: float, e4: float, m5: Axis, s5: float, e5: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Relative scan of five motors together: ``a5scan`` around where they are; they go back there afterwards.

    Parameters
    ----------
    m1 : Axis
        Motor 1.
    s1, e1 : float
        Its first and last positions, relative to where it is.
    m2 : Axis
        Motor 2.
    s2, e2 : float
        Its first and last positions, relative to where it is.
    m3 : Axis
        Motor 3.
    s3, e3 : float
        Its first and last positions, relative to where it is.
    m4 : Axis
        Motor 4.
    s4, e4 : float
        Its first and last positions, relative to where it is.
    m5 : Axis
        Motor 5.
    s5, e5 : float
        Its first and last positions, relative to where it is.
    npoints : int
        The number of points, >= 1, the same for every motor.
    count_time : float
        Seconds counted at each point, >= 0.
    *counters : Counter or MeasurementGroup
        What to count; none: ``ACTIVE_MG``'s enabled counters.
    **options
        The options of every scan (``name``, ``title``, ``save``, ``run``, ``return_scan``, ``scan_info``,
        ``sleep_time``): see ``help(ascan)``.

    Returns
    -------
    Scan or None
        The scan, in ``SCANS`` too (None with ``return_scan=False``).

    Examples
    --------
    >>> d5scan(roby, -1, 1, robz, -1, 1, slowy, -1, 1, m4, -1, 1, m5, -1, 1, 11, 0.1, diode)  # doctest: +SKIP
    """
    return scan_together(
        "d5scan",
        dnscan,
        [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3), (m4, s4, e4), (m5, s5, e5)],
        npoints,
        count_time,
        counters,
        options,
    )
