"""Scans of three to five motors together, as BLISS's ``a3scan`` .. ``a5scan`` and ``d3scan`` .. ``d5scan``.

Each is ``anscan`` (absolute) or ``dnscan`` (relative, the motors go back where they were) with the
motors, starts and stops given one after the other, as ``a2scan`` takes them. As every scan here,
``npoints`` is the number of points (BLISS 1.11 takes intervals: one point more).
"""

from __future__ import annotations

from typing import Any

from bliss_shell.controllers import Axis

from .commands import anscan, dnscan, scan_together
from .parameters import SCAN_PARAMETERS, shared
from .scan import Scan


@shared(SCAN_PARAMETERS)
def a3scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Absolute scan of three motors together, each from its start to its stop, through ``npoints`` points.

    Parameters
    ----------
    {motors 1-3}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> s = a3scan(roby, 0, 1, robz, 5, 6, slowy, 0, 0.2, 3, 0.01, diode)
    >>> s.get_data()["slowy"]
    array([0. , 0.1, 0.2])
    """
    return scan_together("a3scan", anscan, [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3)], npoints, count_time, counters, options)


@shared(SCAN_PARAMETERS)
def a4scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           m4: Axis, s4: float, e4: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Absolute scan of four motors together, each from its start to its stop, through ``npoints`` points.

    Parameters
    ----------
    {motors 1-4}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> a4scan(roby, 0, 1, robz, 0, 2, slowy, 0, 3, m4, 0, 4, 11, 0.1, diode)  # doctest: +SKIP
    """
    return scan_together(
        "a4scan", anscan, [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3), (m4, s4, e4)], npoints, count_time, counters, options
    )


@shared(SCAN_PARAMETERS)
def a5scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           m4: Axis, s4: float, e4: float, m5: Axis, s5: float, e5: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Absolute scan of five motors together, each from its start to its stop, through ``npoints`` points.

    Parameters
    ----------
    {motors 1-5}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

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


@shared(SCAN_PARAMETERS)
def d3scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Relative scan of three motors together: ``a3scan`` around where they are; they go back there afterwards.

    Parameters
    ----------
    {relative_motors 1-3}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

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


@shared(SCAN_PARAMETERS)
def d4scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           m4: Axis, s4: float, e4: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Relative scan of four motors together: ``a4scan`` around where they are; they go back there afterwards.

    Parameters
    ----------
    {relative_motors 1-4}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

    Examples
    --------
    >>> d4scan(roby, -1, 1, robz, -1, 1, slowy, -1, 1, m4, -1, 1, 11, 0.1, diode)  # doctest: +SKIP
    """
    return scan_together(
        "d4scan", dnscan, [(m1, s1, e1), (m2, s2, e2), (m3, s3, e3), (m4, s4, e4)], npoints, count_time, counters, options
    )


@shared(SCAN_PARAMETERS)
def d5scan(m1: Axis, s1: float, e1: float, m2: Axis, s2: float, e2: float, m3: Axis, s3: float, e3: float,
           m4: Axis, s4: float, e4: float, m5: Axis, s5: float, e5: float,
           npoints: int, count_time: float, *counters: Any, **options: Any) -> Scan | None:  # fmt: skip
    """Relative scan of five motors together: ``a5scan`` around where they are; they go back there afterwards.

    Parameters
    ----------
    {relative_motors 1-5}
    {npoints}
    {count_time}
    {counters}
    {options}

    Returns
    -------
    {returns}

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
