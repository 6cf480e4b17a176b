"""Inputs from outside, fuzzed: node names, ``get`` indexes, SCAN_SAVING values, config files.

Only the documented errors may come out (ValueError/TypeError/AttributeError with a message,
ConfigError for config files), and a refused input writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bliss_shell.config import Config, ConfigError, ConfigRoot
from bliss_shell.data import get_node, get_session_node

FIXTURES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
names = st.text(st.characters(codec="utf-8"), max_size=40)


@pytest.fixture
def published(session):
    scan = session["loopscan"](7, 0, session["diode"])
    return scan, get_node(f"{scan.node.db_name}:timer:diode:diode")


@FIXTURES
@given(name=names)
def test_get_node_answers_a_node_none_or_one_clear_error(published, name):
    try:
        node = get_node(name)
    except ValueError as error:
        assert "is not a node db_name" in str(error)
        return
    assert node is None or node.db_name == name
    try:
        get_session_node(name)
    except ValueError as error:
        assert "session name" in str(error) and "is not valid" in str(error)


@FIXTURES
@given(i=st.integers(-20, 20), j=st.one_of(st.none(), st.integers(-20, 20)))
def test_get_matches_the_documented_indexing(published, i, j):
    scan, channel = published
    values = scan.get_data()["diode"]
    n = len(values)
    start = i + n if i < 0 else i
    if j is None:
        expected = values[start] if 0 <= start < n else None
        assert channel.get(i) == expected
    else:
        stop = j + n if j < 0 else j
        first, last = max(start, 0), min(stop, n - 1)  # inclusive; nothing when last < first
        assert np.array_equal(channel.get(i, j), values[first : last + 1] if last >= first else values[:0])


@FIXTURES
@given(index=st.one_of(st.floats(allow_nan=True), st.text(max_size=5), st.booleans(), st.integers(10**30, 10**40)))
def test_get_refuses_what_is_not_an_index(published, index):
    _, channel = published
    if isinstance(index, int) and not isinstance(index, bool):
        assert channel.get(index) is None and len(channel.get(0, index)) == 7  # far past the end: nothing, or all
        return
    with pytest.raises(TypeError, match="indexes are whole numbers"):
        channel.get(index)


@FIXTURES
@given(template=names, value=names)
def test_scan_saving_keeps_every_path_inside_base_path_or_refuses(session, redis_client, tmp_path, template, value):
    saving = session["SCAN_SAVING"]
    saving.base_path = str(tmp_path / "base")
    saving.add("sample", "s1")
    before = redis_client.hgetall("scan_saving|test_session")
    for name, given_value in (("template", template), ("sample", value), ("data_filename", value)):
        try:
            setattr(saving, name, given_value)
        except (ValueError, AttributeError) as error:
            assert str(error).startswith(f"SCAN_SAVING.{name}") and redis_client.hgetall("scan_saving|test_session") == before
            continue
        before = redis_client.hgetall("scan_saving|test_session")
        try:
            path = Path(saving.filename)
        except (KeyError, IndexError, ValueError):  # a format string the template allows but cannot fill
            pytest.fail(f"SCAN_SAVING accepted {name}={given_value!r} but cannot make a path from it")
        assert path.is_relative_to(tmp_path / "base")
        saving.directory_db_name()  # every folder component is a valid node name
    assert not (tmp_path / "base").exists()  # setting parameters creates nothing


@FIXTURES
@given(text=st.text(max_size=200))
def test_any_config_file_loads_or_gives_one_config_error(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("config")
    (root / "fuzz.yml").write_text(text, encoding="utf-8")
    before = sorted(os.listdir(root))
    try:
        config = Config([ConfigRoot(root)])
        for name in config.names():
            config.get_config(name)
    except ConfigError as error:
        assert str(error).startswith(str(root / "fuzz.yml")) or "fuzz.yml" in str(error)
    assert sorted(os.listdir(root)) == before
