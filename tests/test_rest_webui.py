"""BLISS's web page (blisswebui) in a real headless Chromium, against `bliss -s demo --rest` in a real terminal.

The page is the published package's, served by the shell; it reads the demo's layout files (config/webui/) through
/api/beacon, registers the objects they name, moves a motor through POST /api/call and follows positions through
socket.io `change` events. The tests read what a user sees: the widgets' text and boxes, and the shell's answers.
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import Browser
from rest_helpers import shell_value

# The page's console, kept in the page (window.__console) from before its first script runs: errors, warnings and
# the socket.io client's "SocketIO Connected to namespace 'object'".
CONSOLE_SPY = """
window.__console = [];
for (const level of ['error', 'warn', 'log']) {
    const original = console[level].bind(console);
    console[level] = (...args) => {
        window.__console.push([level, args.map((a) => (a instanceof Error ? a.stack || String(a) : String(a))).join(' ')]);
        original(...args);
    };
}
window.addEventListener('error', (event) => window.__console.push(['error', 'uncaught: ' + event.message]));
window.addEventListener('unhandledrejection', (event) => window.__console.push(['error', 'unhandled rejection: ' + event.reason]));
window.__failed = [];
const fetched = window.fetch.bind(window);
window.fetch = async (resource, options) => {
    const answer = await fetched(resource, options);
    if (answer.status >= 400) {
        const body = await answer.clone().text();
        window.__failed.push(`${(options && options.method) || 'GET'} ${resource} ${(options && options.body) || ''} -> ${answer.status} ${body}`);
    }
    return answer;
};
"""
SOCKET_CONNECTED = "SocketIO Connected to namespace 'object'"
WIDGET = "//div[contains(@class, 'hw-component')][.//div[contains(@class, 'name')]//label[normalize-space()='{name}']]"


def widget_js(name: str, then: str) -> str:
    """A JS expression: ``then`` evaluated with ``w`` the widget of object ``name`` (null until it is drawn)."""
    xpath = WIDGET.format(name=name)
    return f"""(() => {{
        const w = document.evaluate({json.dumps(xpath)}, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)
            .singleNodeValue;
        return w ? ({then}) : null;
    }})()"""


def shown_position(browser: Browser, name: str) -> str | None:
    """The text in the motor's box once the motor is READY (its box enabled), else None."""
    return browser.js(
        widget_js(name, "(() => { const i = w.querySelector('input'); return i && !i.disabled ? i.value : null; })()")
    )


def console(browser: Browser, *levels: str) -> list[str]:
    return [text for level, text in browser.js("window.__console || []") if level in levels]


def failed_requests(browser: Browser) -> list[str]:
    """The page's requests that the server refused (status >= 400): method, URL, body, status and answer."""
    return browser.js("window.__failed || []")


def open_page(browser: Browser, url: str) -> None:
    browser.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CONSOLE_SPY})
    browser.driver.get(url)


def api_get(base: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base}api/{path}", timeout=10) as answer:
        return json.loads(answer.read())


def test_the_page_shows_roby_moves_it_and_follows_a_move_made_at_the_prompt(rest_shell, browser):
    demo = rest_shell()
    shell, base = demo.terminal, f"{demo.url}/"
    start = float(shell_value(shell, "roby.position"))

    open_page(browser, f"{base}motors")
    browser.wait(lambda: browser.driver.title == "BLISS: demo » demo » Motors", "the page's title")
    browser.wait(lambda: SOCKET_CONNECTED in console(browser, "log"), "the socket.io /object connection")
    shown = browser.wait(lambda: shown_position(browser, "roby"), "roby's position in its box")
    digits = api_get(base, "object/roby")["properties"]["display_digits"]  # the page registered roby
    assert shown == f"{start:.{digits}f}"  # the page writes the position with the motor's display_digits
    assert browser.js(widget_js("roby", "w.querySelector('.input-group-text').textContent")) == "mm"
    browser.js("window.__not_reloaded = true")

    # a target typed in the page, Enter: the motor moves there, as the shell sees it; the page then writes the
    # position it is told, with display_digits (4): not the text typed ("1.5")
    target = round(start + 1.5, 1)
    box = browser.driver.find_element(By.XPATH, WIDGET.format(name="roby") + "//input")
    box.clear()
    box.send_keys(f"{target}", Keys.ENTER)
    browser.wait(lambda: shown_position(browser, "roby") == f"{target:.{digits}f}", f"roby at {target} in the page")
    assert float(shell_value(shell, "roby.position")) == pytest.approx(target, abs=10**-digits)

    # a move typed at the prompt: the page follows it through socket.io, without reloading
    elsewhere = round(target - 3.25, 2)
    shell.prompt(3)
    shell.enter(f"mv(roby, {elsewhere})")
    shell.prompt(4)
    browser.wait(lambda: shown_position(browser, "roby") == f"{elsewhere:.{digits}f}", f"roby at {elsewhere} in the page")
    assert browser.js("window.__not_reloaded === true")
    browser.screenshot("webui_motors")

    assert console(browser, "error") == []
    assert failed_requests(browser) == []


def test_the_demos_layouts_and_monitor_bar_show_without_errors_and_its_button_counts_at_the_prompt(rest_shell, browser):
    demo = rest_shell()
    base = f"{demo.url}/"
    open_page(browser, base)
    cards = browser.wait(
        "[...document.querySelectorAll('.card .card-body')].map((c) => c.textContent.trim())", "the list of layouts"
    )
    assert cards == ["Motors", "Detectors"]
    monitors = browser.wait(
        "(() => { const names = [...document.querySelectorAll('.monitor-panel h1')].map((h) => h.textContent);"
        " const badges = [...document.querySelectorAll('.monitor-panel .badge')].map((b) => b.textContent);"
        " return badges.length == 3 && !badges.includes('-') ? [names, badges] : null; })()",
        "the monitor bar's three values",
    )
    names, badges = monitors
    assert names == ["roby", "robz", "camera"]
    assert re.fullmatch(r"-?[\d.]+ mm", badges[0]) and re.fullmatch(r"-?[\d.]+ mm", badges[1])
    assert badges[2] == "READY"

    browser.driver.find_elements(By.CSS_SELECTOR, ".card")[1].click()
    browser.wait(lambda: browser.driver.current_url.endswith("/detectors"), "the Detectors page")
    widgets = browser.wait(
        "(() => { const names = [...document.querySelectorAll('.hw-component .name')].map((n) => n.textContent);"
        " return names.length == 4 ? names : null; })()",
        "the four widgets of the Detectors page",
    )
    assert sorted(widgets) == ["MG1", "diode", "diode2", "lima_simulator"]
    browser.wait(
        "document.querySelector('.hw-content') && document.body.innerText.includes('256 \\u00d7 256')", "the camera's frame size"
    )
    assert "Something went wrong" not in browser.driver.find_element(By.TAG_NAME, "body").text
    assert browser.driver.find_elements(By.CSS_SELECTOR, ".btn-danger") == []  # the red "Error" box of a widget
    browser.screenshot("webui_detectors")

    # the button runs ct(0.1) at the shell's prompt, as if typed there
    button = "//button[normalize-space()='ct 0.1 s']"
    browser.driver.find_element(By.XPATH, button).click()
    demo.terminal.wait_for(r"EXECUTE A FUNCTION TRIGGERED REMOTELY\s*│\n│ func: +ct\(\.\.\.\) +│\n│ arg0: +0\.1 ")
    demo.terminal.wait_for(r"^ *diode2 = +[\d.]+ +\([\d.]+ /s\) diode2$")  # ct aligns the values: padding varies
    demo.terminal.wait_for(r"^  Out \[1\]: Scan\(number=1, name=ct, ")
    demo.terminal.prompt(2)
    icon = f"document.evaluate({json.dumps(button + '//i')}, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)"
    browser.wait(f"{icon}.singleNodeValue.className == 'fa fa-play'", "the button's call ended without error")
    assert console(browser, "error") == []
    assert failed_requests(browser) == []
