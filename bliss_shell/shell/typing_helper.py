"""The typing helper: ``ascan roby 0 9 10 0.1 diode`` + Enter runs ``ascan(roby,0,9,10,0.1,diode)``.

As in BLISS: a space after the name of a callable opens the parenthesis, a space after an
argument becomes a comma, Enter closes the parenthesis; Enter on a bare callable whose
arguments all have defaults calls it (``wa``). Attribute access, assignments, strings,
nested brackets and multi-line input are left alone. F7 turns it on and off.

Only the helper's own characters are added: a space typed after a comma the user typed
(``ascan roby, 0, 9``) stays, and a line whose parenthesis the user typed
(``ascan(roby, 0, 9, 10, 0.1)``) is never touched, whatever the lines before it were. A
second space after the helper's comma is dropped (``ascan roby  0`` gives ``ascan(roby,0``).
The prompt tells the helper every change of the line (``text_changed``): a comma of the helper
that the user deleted and typed again is the user's.
"""

from __future__ import annotations

import builtins
import inspect
import re
from typing import Any

_NAME = re.compile(r"^\s*([A-Za-z_]\w*)\s*$")
_KEEP_SPACE_AFTER = set("+-*/%<>=!&|^~[{:.@")  # an expression or keyword argument is being typed
_NO_COMMA_AFTER = set("(,")


class TypingHelper:
    """What the prompt inserts at a space and runs at Enter, from the text typed so far and the namespace's callables.

    Parameters
    ----------
    namespace : dict
        The session's namespace: a name is a command when it holds a callable there (or among the builtins).

    Examples
    --------
    What ``ascan roby 0 4 5 0.1 diode`` + Enter becomes, space by space:

    >>> helper = TypingHelper({"ascan": ascan, "wa": wa, "roby": roby, "diode": diode})
    >>> helper.on_space("ascan"), helper.on_space("ascan(roby"), helper.on_space("ascan(roby,0")
    ('(', ',', ',')
    >>> helper.on_enter("ascan(roby,0,4,5,0.1,diode")
    'ascan(roby,0,4,5,0.1,diode)'
    >>> helper.on_enter("wa"), helper.on_enter("roby.position")
    ('wa()', None)
    """

    def __init__(self, namespace: dict[str, Any]):
        self.enabled = True
        self._namespace = namespace
        self._opened: str | None = None  # the text up to the "(" the helper added on this line
        self._commas: set[int] = set()  # where, on this line, the helper put a comma for a space
        self._seen = ""  # the line as the helper last knew it (``text_changed``)

    def new_line(self) -> None:
        """Forget what the helper added: the prompt starts a new line."""
        self._opened = None
        self._commas.clear()
        self._seen = ""

    def text_changed(self, text: str) -> None:
        """The line is now ``text`` (the prompt tells every change): forget the commas an edit removed or moved.

        A comma the user deleted and typed again is the user's: a space after it stays.

        Examples
        --------
        >>> helper = TypingHelper({"ascan": ascan, "roby": roby})
        >>> helper.on_space("ascan"), helper.on_space("ascan(roby")  # the helper's parenthesis and comma
        ('(', ',')
        >>> helper.text_changed("ascan(roby,")
        >>> helper.text_changed("ascan(roby")  # Backspace
        >>> helper.text_changed("ascan(roby,")  # the user's comma
        >>> helper.on_space("ascan(roby,")
        ' '
        """
        pairs = zip(self._seen, text)
        unchanged = next((i for i, (old, new) in enumerate(pairs) if old != new), min(len(self._seen), len(text)))
        self._commas = {position for position in self._commas if position < unchanged}
        self._seen = text

    def toggle(self) -> None:
        """Turn the helper off, or on again (F7)."""
        self.enabled = not self.enabled

    def on_space(self, text: str) -> str:
        """What a space typed at the end of ``text`` inserts: "(", ",", " " or nothing."""
        inserted = self._space(text)
        self._seen = text + inserted
        return inserted

    def _space(self, text: str) -> str:
        if "\n" in text:
            return " "
        if self._inside(text):
            depth, in_string = _brackets(text)
            if in_string or depth != 1:
                return " "
            last = text.rstrip()[-1]
            if last in _NO_COMMA_AFTER:  # the helper's own "(" or ",": a second space; the user's ",": kept
                return "" if last == "(" or len(text) - 1 in self._commas else " "
            if last in _KEEP_SPACE_AFTER or text.endswith(" "):
                return " "
            self._commas.add(len(text))
            return ","
        match = _NAME.match(text)
        if match and self._callable(match.group(1)) is not None:
            self._opened = text + "("
            self._commas.clear()
            return "("
        return " "

    def on_enter(self, text: str) -> str | None:
        """The code Enter should run instead of ``text``, or None to run ``text`` as typed."""
        if "\n" in text:
            return None
        if self._inside(text) and _brackets(text) == (1, False):
            return text.rstrip().rstrip(",") + ")"
        match = _NAME.match(text)
        if match and _no_required_argument(self._callable(match.group(1))):
            return f"{match.group(1)}()"
        return None

    def _inside(self, text: str) -> bool:
        return self._opened is not None and text.startswith(self._opened)

    def _callable(self, name: str) -> Any:
        """The plain callable (function, method, callable object) of that name, else None.

        Classes are left alone, since typing a class name is more often a look than a call.
        """
        value = self._namespace.get(name, getattr(builtins, name, None))
        return value if callable(value) and not isinstance(value, type) else None


def _no_required_argument(function: Any) -> bool:
    if function is None:
        return False
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    required = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return all(p.default is not inspect.Parameter.empty for p in parameters if p.kind in required)


def _brackets(text: str) -> tuple[int, bool]:
    """Open brackets outside strings and comments, and whether a string is left open."""
    depth, quote, i = 0, "", 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif char in "\"'":
            quote = char * 3 if text.startswith(char * 3, i) else char
            i += len(quote) - 1
        elif char == "#":
            break
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        i += 1
    return depth, bool(quote)
