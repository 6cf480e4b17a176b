"""What mypy knows of PyTango (``mypy_path`` in pyproject.toml): every name is Any, as for an untyped library,
except those typed here.

PyTango ships no ``py.typed``, and its generated ``_tango.pyi`` says ``Except.throw_exception`` returns None,
while it always raises ``DevFailed``: typed so, a device server's code after it is known not to run.
"""

from typing import Any, NoReturn

class Except:
    @staticmethod
    def throw_exception(reason: str, description: str, origin: str, severity: Any = ...) -> NoReturn: ...

def __getattr__(name: str) -> Any: ...
