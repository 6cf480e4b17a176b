"""Run docs/tutorial.md's ``>>>`` blocks in the session this script runs in (``bliss -s test_session --script``).

The tutorial saves under /tmp/bliss_tutorial; ``$TUTORIAL_BASE`` replaces that path (and its
data-tree form) so a test writes in its own folder. Exits 1 when an output differs.
"""

import doctest
import os
import re
from pathlib import Path

text = (Path(__file__).parents[1] / "docs" / "tutorial.md").read_text(encoding="utf-8")
base = Path(os.environ["TUTORIAL_BASE"])
source = "\n".join(re.findall(r"```pycon\n(.*?)```", text, re.S))
source = source.replace("/tmp/bliss_tutorial", str(base)).replace("tmp:bliss_tutorial", ":".join(base.parts[1:]))
test = doctest.DocTestParser().get_doctest(source, globals(), "tutorial", "docs/tutorial.md", 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
runner.run(test, clear_globs=False)
print(f"tutorial: {runner.tries} examples, {runner.failures} failed")
raise SystemExit(1 if runner.failures else 0)
