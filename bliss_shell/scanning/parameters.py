"""The parameters many commands share, each documented once here; ``@shared(...)`` writes them into a docstring.

A docstring names a shared text by a line of its own in braces, ``{count_time}``; ``{motors 1-3}``
repeats its text for n = 1, 2, 3 (the text says ``{n}`` where the number goes). Lines of the command's
own indented under that line follow the shared text, as a paragraph of their own. The docstring is
filled once, at import: ``help(ascan)`` and ``ascan.__doc__`` show the whole numpydoc text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from textwrap import dedent
from typing import TypeVar

Documented = TypeVar("Documented", bound=Callable[..., object])

PLACEHOLDER = re.compile(r"^(?P<indent> *)\{(?P<key>\w+)(?: (?P<first>\d)-(?P<last>\d))?\}$")

SCAN_PARAMETERS = {
    key: dedent(text).strip("\n")
    for key, text in {
        "motor": """
            motor : Axis
                The motor to scan.
            """,
        "start_stop": """
            start, stop : float
                Its first and last positions (user positions).
            """,
        "relative_start_stop": """
            start, stop : float
                Its first and last positions, relative to where it is.
            """,
        "motors": """
            m{n} : Axis
                Motor {n}.
            s{n}, e{n} : float
                Its first and last positions.
            """,
        "relative_motors": """
            m{n} : Axis
                Motor {n}.
            s{n}, e{n} : float
                Its first and last positions, relative to where it is.
            """,
        "npoints": """
            npoints : int
                The number of points, >= 1: points, not intervals (5 from 0 to 4 count at 0, 1, 2, 3, 4).
            """,
        "periods": """
            npoints : int
                The number of periods, >= 1.
            """,
        "count_time": """
            count_time : float
                Seconds counted at each point, >= 0.
            """,
        "acq_time": """
            acq_time : float
                Seconds of each period, > 0.
            """,
        "counters": """
            *counters : Counter or MeasurementGroup
                What to count; none: the enabled counters of ``ACTIVE_MG``. A group given is counted as its
                enabled counters; a counter given twice is refused.
            """,
        "backnforth": """
            backnforth : bool
                Default False; True runs every other line backwards (``m1`` goes back from ``e1`` to ``s1``).
            """,
        "options": """
            **options
                The options of every scan:

                - ``name`` (str, default: the command's name): the scan's name, as ``SCANS`` shows it; its
                  Redis node is ``<number>_<name>`` (letters, digits, ``_``, ``-``, ``.``).
                - ``title`` (str, default: the command as typed, ``ascan roby 0 4 5 0.01``): the title
                  readers and the file show.
                - ``save`` (bool, default True): write the NeXus file; False only publishes into Redis.
                - ``run`` (bool, default True): False returns the scan without running it (``.run()`` it later).
                - ``return_scan`` (bool, default True): False returns None.
                - ``scan_info`` (dict): merged into the scan's info.
                - ``sleep_time`` (float, default 0): seconds to wait after each point.

                Any other keyword is refused.
            """,
        "returns": """
            Scan or None
                The scan, also kept in ``SCANS`` (None with ``return_scan=False``).
            """,
    }.items()
}
"""The scan commands' shared parameters (and what they return): placeholder name -> numpydoc lines."""


def shared(entries: Mapping[str, str]) -> Callable[[Documented], Documented]:
    r"""Fill the placeholders of the decorated function's docstring with ``entries``' texts.

    Parameters
    ----------
    entries : dict of str to str
        Placeholder name -> its numpydoc lines (``SCAN_PARAMETERS``, or a module's own).

    Returns
    -------
    callable
        The decorator: it returns the function itself, its ``__doc__`` filled.

    Raises
    ------
    ValueError
        A placeholder that ``entries`` has not: the module does not import.

    Examples
    --------
    >>> @shared({"gain": "gain : float\n    The amplification."})
    ... def amplify(gain):
    ...     '''Amplify.
    ...
    ...     {gain}
    ...         Here: twice.
    ...     '''
    >>> amplify.__doc__.split("\n")
    ['Amplify.', '', '    gain : float', '        The amplification.', '', '        Here: twice.', '    ']
    """

    def fill(function: Documented) -> Documented:
        function.__doc__ = filled(function.__doc__ or "", entries, function.__name__)
        return function

    return fill


def filled(doc: str, entries: Mapping[str, str], name: str) -> str:
    """``doc`` with each placeholder line replaced by its entry, re-indented where the placeholder stands."""
    lines = doc.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        found = PLACEHOLDER.match(lines[index])
        index += 1
        if found is None:
            out.append(lines[index - 1])
            continue
        key, indent = found["key"], found["indent"]
        if key not in entries:
            raise ValueError(f"{name}: its docstring names {{{key}}}, which is none of {', '.join(entries)}")
        numbers = range(int(found["first"]), int(found["last"]) + 1) if found["first"] else [None]
        for number in numbers:
            text = entries[key] if number is None else entries[key].replace("{n}", str(number))
            out += [indent + line if line else "" for line in text.split("\n")]
        own = index
        while own < len(lines) and lines[own].startswith(indent + " ") and lines[own].strip():
            own += 1
        if own > index:  # the command's own words about it: a paragraph after the shared text
            out += ["", *lines[index:own]]
            index = own
    return "\n".join(out)
