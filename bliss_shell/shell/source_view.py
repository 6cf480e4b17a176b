"""``prdef``: where a function is defined and its source, as BLISS shows it.

Sources come from the function's file; for a function a user script defined, from the script as it
was when loaded (``remember_source``); for one typed at the prompt, from the prompt's history (the
entry whose compiled code is the function's own).
"""

from __future__ import annotations

import inspect
import linecache
import types
import weakref
from typing import Any

from bliss_shell.scanning import current

# Source lines and first line number of what user scripts defined, as loaded.
_remembered: weakref.WeakKeyDictionary[Any, tuple[list[str], int]] = weakref.WeakKeyDictionary()


def remember_source(value: Any) -> None:
    """Keep the source of a function or class as it is now (a loaded script may change on disk later)."""
    if inspect.isfunction(value) or inspect.isclass(value):
        try:
            _remembered[value] = inspect.getsourcelines(value)
        except (OSError, TypeError):
            pass


def prdef(function: Any) -> None:
    """Print where a function (or class) is defined, ``file:line``, and its source.

    A function a user script defined shows the script as it was when loaded; one typed at the
    prompt shows what was typed (from the prompt's history). Built-in functions have no Python
    source: they are refused with a ``TypeError``.

    Parameters
    ----------
    function : callable or str
        A function, method or class, or its name in the session namespace (then an alias says which
        function it names). For a callable object, its class.

    Examples
    --------
    >>> prdef(umv)
    'umv' is defined in:
    /.../bliss_shell/scanning/motors.py:...
    <BLANKLINE>
    def umv(*motor_positions: Any) -> None:
    ...
    >>> prdef("lsmot")
    'lsmot' is defined in:
    /.../bliss_shell/scanning/motors.py:...
    <BLANKLINE>
    def lsmot() -> None:
    ...
    >>> prdef(len)
    Traceback (most recent call last):
    ...
    TypeError: prdef: <built-in function len> is built into Python (C code): it has no Python source to show
    """
    name = function if isinstance(function, str) else None
    if name is not None:
        namespace = current().namespace
        if name not in namespace:
            raise NameError(f"prdef: there is no {name!r} in the session; give a function or its name, e.g. prdef(ascan)")
        function = namespace[name]
    target = _definition(function)
    real_name = getattr(target, "__qualname__", getattr(target, "__name__", repr(target)))
    where, lines = _source(target)
    if name is not None and name != target.__name__:
        print(f"'{name}' is an alias for '{real_name}' which is defined in:\n{where}\n")
    else:
        print(f"'{real_name}' is defined in:\n{where}\n")
    print(
        "".join(lines).rstrip("\n") if lines else "(its source is not available: it was not read from a file this shell can read)"
    )


def _definition(value: Any) -> Any:
    """The function or class to show: methods and decorated functions unwrapped, a callable object's class."""
    if inspect.ismethod(value):
        value = value.__func__
    if inspect.isfunction(value):
        return inspect.unwrap(value)
    if inspect.isclass(value):
        return value
    if inspect.isbuiltin(value) or isinstance(value, (types.MethodWrapperType, types.WrapperDescriptorType)):
        raise TypeError(f"prdef: {value!r} is built into Python (C code): it has no Python source to show")
    if callable(value):
        return type(value)
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise TypeError(f"prdef: {shown} is a {type(value).__name__}, not a function; give a function or a class, "
                    f"e.g. prdef(type(x)) for the class of an object x")  # fmt: skip


def _source(target: Any) -> tuple[str, list[str]]:
    """``file:line`` and the source lines; no lines when the source is nowhere to be read."""
    if target in _remembered:
        lines, first = _remembered[target]
        return f"{inspect.getsourcefile(target) or inspect.getfile(target)}:{first}", lines
    try:
        filename = inspect.getfile(target)
    except TypeError:  # a class of a built-in module
        raise TypeError(f"prdef: {target.__qualname__} is built into Python (C code): it has no Python source to show") from None
    code = getattr(target, "__code__", None)
    first = code.co_firstlineno if code is not None else 0
    if filename == "<stdin>" and code is not None:
        typed = _typed_at_prompt(code)
        return f"<stdin>:{first} (typed at the prompt)", typed or []
    linecache.checkcache(filename)  # the file changed since it was read: show what is on disk now
    try:
        lines, first = inspect.getsourcelines(target)
    except (OSError, TypeError):  # typed in ``bliss -c``; a class typed at the prompt (its module names no file of it)
        return (f"{filename}:{first}" if code is not None else f"module {target.__module__}"), []
    return f"{filename}:{first}", lines


def _typed_at_prompt(code: types.CodeType) -> list[str] | None:
    """The lines of the prompt's newest history entry that compiles to ``code``, from its ``def``."""
    repl_getter = current().namespace.get("get_ptpython")  # set by ptpython while the prompt runs
    if repl_getter is None:
        return None
    repl = repl_getter()
    try:
        entries = repl.history.get_strings()
        flags = repl.get_compiler_flags()
    except Exception:  # a history that cannot be read only costs the source
        return None
    for entry in reversed(entries):
        try:
            compiled = compile(entry, "<stdin>", "exec", flags=flags, dont_inherit=True)
        except (SyntaxError, ValueError):
            continue
        if _holds(compiled, code):
            return inspect.getblock(entry.splitlines(keepends=True)[code.co_firstlineno - 1 :])
    return None


def _holds(compiled: types.CodeType, code: types.CodeType) -> bool:
    return any(const == code or (isinstance(const, types.CodeType) and _holds(const, code)) for const in compiled.co_consts)
