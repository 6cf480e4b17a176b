"""The benches (bench/engine_costs.py, bench/rest_cost.py) write their figures into docs/performance.md between a
label's markers, and nowhere else (bench/machine.py's ``write_between_markers``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from engine_costs import DOCS
from machine import write_between_markers

DOC = """# Performance

## Costs beside 88e54a9

<!-- engine_costs:before -->
old figures
<!-- /engine_costs:before -->

<!-- engine_costs:after -->
After issue 29: see the closing measurement.
<!-- /engine_costs:after -->
"""


def test_the_figures_replace_what_was_between_their_labels_markers_only(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(DOC)
    write_between_markers(doc, "engine_costs", "after", "| figure | this code |\n| loopscan | 0.0100 |")
    assert doc.read_text() == DOC.replace(
        "After issue 29: see the closing measurement.", "| figure | this code |\n| loopscan | 0.0100 |"
    )
    write_between_markers(doc, "engine_costs", "after", "new")
    assert (
        "old figures" in doc.read_text() and "<!-- engine_costs:after -->\nnew\n<!-- /engine_costs:after -->" in doc.read_text()
    )


def test_a_doc_without_the_labels_markers_is_refused_and_left_as_it_was(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(DOC)
    with pytest.raises(SystemExit, match="has no '<!-- engine_costs:later -->' ... '<!-- /engine_costs:later -->' markers: add"):
        write_between_markers(doc, "engine_costs", "later", "figures")
    assert doc.read_text() == DOC


def test_the_projects_performance_page_has_the_markers_of_before_and_after():
    text = DOCS.read_text()
    for label in ("before", "after"):
        assert text.index(f"<!-- engine_costs:{label} -->") < text.index(f"<!-- /engine_costs:{label} -->")
