"""A real headless Chromium (Debian's ``chromium`` with ``chromium-driver``) driven by selenium, for the viewer's pages.

What a page shows is read from its Bokeh document in the browser (``Bokeh.documents[0]``):
the models the page received, by name. Clicks and mouse moves are real input events.

Example
-------
>>> browser = Browser(tmp_path)
>>> browser.open(url)
>>> browser.wait("model('curve_source').data.x.length == 10", "ten points drawn")
>>> browser.close()
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import JavascriptException, WebDriverException
from selenium.webdriver.chrome.service import Service

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run")  # fmt: skip
# The page's helpers: its models by name, and an element found through Bokeh's shadow roots.
HELPERS = """
const model = (name) => Bokeh.documents[0].get_model_by_name(name);
const viewOf = (m) => {
    const search = (view) => {
        if (view.model === m) return view;
        for (const child of (view.children ? view.children() : [])) { const found = search(child); if (found) return found; }
        return null;
    };
    for (const root of Bokeh.index.roots) { const found = search(root); if (found) return found; }
    return null;
};
const deep = (root, selector) => {
    const found = root.querySelector(selector);
    if (found) return found;
    for (const el of root.querySelectorAll('*')) {
        if (el.shadowRoot) { const inner = deep(el.shadowRoot, selector); if (inner) return inner; }
    }
    return null;
};
"""


class Browser:
    def __init__(self, folder: Path):
        if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
            raise RuntimeError(
                "the browser tests need Debian's chromium and chromium-driver: the README's test command installs them"
            )
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={folder / 'chromium-profile'}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.folder = folder

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.wait("window.Bokeh && Bokeh.documents.length > 0 && model('status') !== null", "the page to load")

    def js(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page, with ``model(name)`` and ``deep(root, selector)``."""
        return self.driver.execute_script(HELPERS + f"return ({expression});")

    def wait(self, expression: str | Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
        """Wait until the expression is truthy in the page (or the check, called here, returns something truthy);
        its value."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            try:
                last = expression() if callable(expression) else self.js(expression)
            except JavascriptException as error:  # not there yet (a model or a view still missing)
                last = error.msg
            else:
                if last:
                    return last
            time.sleep(0.05)
        self.screenshot(f"timeout-{what[:40].replace(' ', '_')}")
        raise AssertionError(f"the page did not show {what} within {timeout:g} s; last: {json.dumps(last, default=str)[:300]}")

    def show_tab(self, title: str) -> None:
        """Click the tab's header, as a user does."""
        tab = self.wait(f"deep(document, '.bk-tab:nth-child({['Curves', 'Map', 'Spectra', 'Image'].index(title) + 1})')",
                        f"the {title} tab")  # fmt: skip
        tab.click()
        self.wait(f"model('tabs').active == {['Curves', 'Map', 'Spectra', 'Image'].index(title)}", f"the {title} tab shown")

    def mouse_to(self, figure: str, x: float, y: float) -> None:
        """Move the mouse over data point (x, y) of a figure: a real mouse event at its place on the screen."""
        where = self.wait(
            f"""(() => {{
                const view = viewOf(model('{figure}'));
                if (!view) return null;
                const box = view.canvas_view.el.getBoundingClientRect();
                const where = [box.left + view.frame.x_scale.compute({x}), box.top + view.frame.y_scale.compute({y})];
                return where.every(Number.isFinite) ? where : null;
            }})()""",
            f"the {figure} figure drawn",
        )
        self.driver.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": where[0], "y": where[1]})

    def screenshot(self, name: str) -> Path:
        path = self.folder / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def close(self) -> None:
        try:
            self.driver.quit()
        except WebDriverException:
            pass  # already gone (a test killed it)
