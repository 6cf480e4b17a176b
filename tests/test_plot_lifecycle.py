"""The live plots' viewer lives as long as what it serves: it stops by itself when its Redis is gone for good or its
runtime folder is removed, outlives a Redis restart, and keeps answering while many pages close at once."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import gevent

from bliss_shell.plot.launcher import start_viewer
from bliss_shell.plot.lifetime import REDIS_GRACE_ENV
from browser import Browser
from conftest import wait_for
from test_faults import (
    kill,
    own_redis,  # noqa: F401  (a Redis the test may kill)
)
from test_plot import (
    process_ended,
    stop_viewer_process,
    viewer,  # noqa: F401  (the fixture that starts the viewer as flint() does)
    viewer_status,
)


def test_a_viewer_outlives_a_redis_restart_and_stops_when_redis_is_gone_for_good(own_redis, tmp_path, monkeypatch):  # noqa: F811
    server, _ = own_redis
    monkeypatch.setenv(REDIS_GRACE_ENV, "10")  # the default is 600 s
    log = tmp_path / "viewer.log"
    url = start_viewer("test_session", server.url, "127.0.0.1", 0, log)
    pid = viewer_status(url)["pid"]
    try:
        kill(server)  # a restart, seconds long
        wait_for(lambda: viewer_status(url)["redis"] != "ok", "the viewer seeing Redis gone", timeout=30)
        server.ensure_running()
        wait_for(lambda: viewer_status(url)["redis"] == "ok", "the viewer seeing Redis back", timeout=30)
        kill(server)  # gone for good
        wait_for(lambda: process_ended(pid), "the viewer stopping by itself", timeout=60)
        assert f"the viewer of test_session stops: Redis at {server.url} has not answered for 10 s" in log.read_text()
    finally:
        stop_viewer_process(url)


def test_a_viewer_stops_by_itself_when_its_runtime_folder_is_removed(redis_server, tmp_path, monkeypatch):
    run = Path(tempfile.mkdtemp(prefix="bst-life-run-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))  # the viewer's, as the shell's environment gives it
    log = tmp_path / "viewer.log"
    url = start_viewer("test_session", redis_server.url, "127.0.0.1", 0, log)
    pid = viewer_status(url)["pid"]
    try:
        assert (run / "bliss_shell" / f"viewer-{pid}.json").exists()
        shutil.rmtree(run)  # the user's login session ended, or someone cleaned up
        wait_for(lambda: process_ended(pid), "the viewer stopping by itself", timeout=60)
        assert f"the viewer of test_session stops: its runtime folder {run / 'bliss_shell'} is gone" in log.read_text()
    finally:
        stop_viewer_process(url)
        shutil.rmtree(run, ignore_errors=True)


ANSWER_WITHIN = 3.0  # s for /status: flint() waits 2 s for it before it looks for the viewer's process


def status_within(url: str, timeout: float) -> dict:
    """The viewer's /status, or TimeoutError / URLError when it does not answer within ``timeout`` s."""
    with urllib.request.urlopen(url + "status", timeout=timeout) as answer:
        return json.loads(answer.read())


def test_twenty_pages_closed_at_once_during_a_fast_scan_leave_the_viewer_answering(session, viewer, tmp_path):  # noqa: F811
    url = viewer()
    browser = Browser(tmp_path)
    try:
        for tab in range(20):
            if tab:
                browser.driver.switch_to.new_window("tab")
            browser.open(url)
        wait_for(lambda: len(viewer_status(url)["pages"]) == 20, "the 20 pages open", timeout=30)
        scan = gevent.spawn(session["loopscan"], 3000, 0.001, session["diode"], save=False)
        browser.wait("model('curve_source').data.x.length > 0", "the scan's first points")
    finally:
        browser.close()  # every page at once
    scan.get()
    closed, deadline = time.monotonic(), time.monotonic() + 60
    pages = 20
    while pages:  # the closed pages are forgotten after Bokeh's session lifetime (5 s); Bokeh destroys them together
        assert time.monotonic() < deadline, f"the viewer still lists {pages} pages 60 s after they closed"
        try:
            pages = len(status_within(url, ANSWER_WITHIN)["pages"])
        except (TimeoutError, urllib.error.URLError) as error:
            raise AssertionError(f"/status did not answer within {ANSWER_WITHIN:g} s, "
                                 f"{time.monotonic() - closed:.1f} s after the pages closed: {error}") from None  # fmt: skip
        gevent.sleep(0.05)
