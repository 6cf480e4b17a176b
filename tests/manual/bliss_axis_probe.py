"""Print what a Tango client sees of BLISS 1.11.4's axis server (BlissAxisManager) started by bliss_axis_server.sh.

Run with the project's own venv (Python 3.11, PyTango 10):

    .venv/bin/python tests/manual/bliss_axis_probe.py [tango://127.0.0.1:25110/bliss/blissaxismanager_mock]

The argument (or $BLISS_AXIS_URL without its last part) is the prefix of the axis devices bm1, bm2, bm3.
It moves the mockup axes, changes their offsets and limits, and puts them back (position 0, offset 0, config limits).
Not a test: it prints observations (markdown) for docs/tango.md and the motor client's design.
"""

from __future__ import annotations

import os
import sys
import time

import tango

DEFAULT_PREFIX = "tango://127.0.0.1:25110/bliss/blissaxismanager_mock"


def prefix_from_args() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1].rstrip("/")
    url = os.environ.get("BLISS_AXIS_URL")
    return url.rsplit("/", 1)[0] if url else DEFAULT_PREFIX


PREFIX = prefix_from_args()


def dev(name: str) -> tango.DeviceProxy:
    proxy = tango.DeviceProxy(f"{PREFIX}/{name}")
    proxy.set_timeout_millis(10_000)
    return proxy


def error_text(exc: tango.DevFailed) -> str:
    first = exc.args[0]
    return f"DevFailed reason={first.reason!r} desc={first.desc.strip().splitlines()[-1][:200]!r}"


def attempt(what: str, func):
    try:
        result = func()
    except tango.DevFailed as exc:
        print(f"- `{what}` -> {error_text(exc)}")
        return exc
    print(f"- `{what}` -> {result!r}")
    return result


def wait_until(condition, what: str, timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds; RuntimeError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {timeout:g} s for {what}")
        time.sleep(0.01)


def settle(d: tango.DeviceProxy, timeout: float = 30.0) -> None:
    t0 = time.monotonic()
    while d.state() == tango.DevState.MOVING:
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"{d.name()} still MOVING after {timeout} s")
        time.sleep(0.01)


def reset(d: tango.DeviceProxy, limits: tuple[float, float] | None) -> None:
    settle(d)
    if d.state() == tango.DevState.OFF:
        d.On()
    d.SetDial(0.0)
    d.SetPosition(0.0)
    if limits is not None:
        d.Limits = list(limits)


def snapshot(d: tango.DeviceProxy) -> str:
    spu = d.read_attribute("steps_per_unit").value
    ctrl = d.CtrlPosition()
    return (
        f"Position={d.Position:g} Offset={d.Offset:g} Sign={d.read_attribute('Sign').value} "
        f"Limits={list(d.Limits)} CtrlPosition={ctrl:g} (dial={ctrl / spu:g})"
    )


def trace_move(d: tango.DeviceProxy, action, duration_max: float = 20.0, period: float = 0.005) -> list[tuple]:
    """Run action(), then poll state/Position until the axis is no longer MOVING; return state changes."""
    t0 = time.monotonic()
    action()
    t_action = time.monotonic() - t0
    changes: list[tuple] = []
    last = None
    samples = 0
    while True:
        t = time.monotonic() - t0
        state = d.state()
        position = d.read_attribute("Position")
        samples += 1
        if state != last:
            changes.append((round(t, 3), str(state), round(position.value, 4), str(position.quality)))
            last = state
        if state != tango.DevState.MOVING and t > 0.05:
            break
        if t > duration_max:
            changes.append((round(t, 3), "gave up", round(position.value, 4), str(position.quality)))
            break
        time.sleep(period)
    print(f"  - action returned after {t_action * 1000:.1f} ms; {samples} polls")
    for change in changes:
        print(f"  - t={change[0]:.3f} s state={change[1]} Position={change[2]} quality={change[3]}")
    return changes


def section(title: str) -> None:
    print(f"\n## {title}\n")


def interface(d: tango.DeviceProxy) -> None:
    section(f"Interface of {d.name()} (class {d.info().dev_class}, server {d.info().server_id})")
    print(f"tango.DeviceProxy({PREFIX + '/bm1'!r}); PyTango {tango.__version__} client\n")
    print("| attribute | data_type | format | writable | unit | min | max | label | display level |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in d.get_attribute_list():
        q = d.attribute_query(name)
        print(
            f"| {name} | {tango.CmdArgType(q.data_type).name} | {q.data_format} | {q.writable} | {q.unit!r} | {q.min_value} | "
            f"{q.max_value} | {q.label} | {q.disp_level} |"
        )
    print("\n| command | in | out | in doc | out doc |")
    print("|---|---|---|---|---|")
    for c in d.command_list_query():
        print(f"| {c.cmd_name} | {c.in_type} | {c.out_type} | {c.in_type_desc} | {c.out_type_desc} |")
    print()
    attempt("d.ReadConfig('unit')", lambda: d.ReadConfig("unit"))
    attempt("d.GetControllerClassName()", d.GetControllerClassName)
    attempt("d.GetCustomCommandList()", d.GetCustomCommandList)
    attempt("d.GetCustomAttributeList()", d.GetCustomAttributeList)
    attempt("d.get_attribute_poll_period('Position')", lambda: d.get_attribute_poll_period("Position"))
    attempt("d.get_attribute_poll_period('State')", lambda: d.get_attribute_poll_period("State"))
    attempt("d.status()", d.status)
    for event_attr in ("Position", "State"):
        for kind in (tango.EventType.CHANGE_EVENT, tango.EventType.PERIODIC_EVENT):

            def subscribe(name=event_attr, kind=kind):
                eid = d.subscribe_event(name, kind, lambda e: None)
                d.unsubscribe_event(eid)
                return "subscribed"

            attempt(f"d.subscribe_event({event_attr!r}, {kind})", subscribe)


def moves(d: tango.DeviceProxy) -> None:
    section(f"A move: d.Position = 3 on {d.name()} (velocity {d.Velocity}, acceleration {d.Acceleration})")
    reset(d, None)
    print(f"- before: {snapshot(d)}; AccTime={d.AccTime:g}")
    trace_move(d, lambda: d.write_attribute("Position", 3.0))
    print(f"- after: {snapshot(d)}")
    print(f"- status when done: {d.status()!r}; Position w_value: {d.read_attribute('Position').w_value!r}")
    attempt("d.Stop() when not moving", d.Stop)
    print(f"  - state {d.state()}")
    section(f"A move on {d.name()}: state right after the write (10 tries, Position += 0.1)")
    seen = []
    for _ in range(10):
        d.Position = d.Position + 0.1
        seen.append(str(d.state()))
        settle(d)
    print(f"- state read just after each write returned: {seen}")

    section("Writing Position again while MOVING")
    reset(d, None)
    d.Position = 4.0
    wait_until(lambda: d.state() == tango.DevState.MOVING, "the first move to start")
    print(f"- state once the first move is under way: {d.state()}")
    attempt("d.Position = 1.0 (while moving)", lambda: d.write_attribute("Position", 1.0))
    settle(d)
    print(f"- ended at Position={d.Position:g}")

    section("WaitMove")
    reset(d, None)
    d.Position = 2.0
    t0 = time.monotonic()
    attempt("d.WaitMove()", d.WaitMove)
    print(f"- WaitMove returned after {time.monotonic() - t0:.3f} s, state {d.state()}, Position {d.Position:g}")
    reset(d, None)
    d.set_timeout_millis(1000)
    d.Position = 8.0
    t0 = time.monotonic()
    attempt("d.WaitMove() with a 1 s client timeout on a 4.5 s move", d.WaitMove)
    print(f"- returned after {time.monotonic() - t0:.3f} s, state {d.state()}")
    d.set_timeout_millis(10_000)
    settle(d)


def stops(d: tango.DeviceProxy) -> None:
    for command in ("Stop", "Abort"):
        section(f"{command} during a move (d.Position = 8, {command} once at full speed, Position 2.5)")
        reset(d, None)
        d.Position = 8.0
        wait_until(lambda: d.Position >= 2.5, "full speed (Position 2.5)")  # bm1: velocity 2, acceleration 4
        before = d.Position
        print(f"- Position when {command} is sent: {before:g}")
        changes = trace_move(d, getattr(d, command))
        end = changes[-1][0] if changes else 0.0
        print(f"- {command}: MOVING for {end:.3f} s after the command; travelled {d.Position - before:g} after it")
        print(f"- after: {snapshot(d)}; status {d.status()!r}")


def limits(d: tango.DeviceProxy, config_limits: tuple[float, float]) -> None:
    section(f"Limits on {d.name()}")
    low, high = config_limits
    reset(d, config_limits)
    print(f"- initial: {snapshot(d)}")
    for target in (high + 1.0, low - 1.0):
        attempt(f"d.Position = {target:g} (beyond a limit)", lambda t=target: d.write_attribute("Position", t))
        print(f"  - state {d.state()}, Position {d.Position:g}")
    attempt(f"d.Position = {high:g} (exactly the high limit)", lambda: d.write_attribute("Position", high))
    settle(d)
    print(f"  - state {d.state()}, Position {d.Position:g}")
    reset(d, config_limits)
    attempt("d.Limits = [-2, 2]", lambda: d.write_attribute("Limits", [-2.0, 2.0]))
    print(f"  - {snapshot(d)}")
    attempt("d.Position = 3 (beyond new limit)", lambda: d.write_attribute("Position", 3.0))
    attempt("d.SetPosition(5) (user = dial*sign + 5)", lambda: d.SetPosition(5.0))
    print(f"  - {snapshot(d)}  <- do Limits follow the offset?")
    attempt("d.Position = 6.5", lambda: d.write_attribute("Position", 6.5))
    settle(d)
    print(f"  - {snapshot(d)}")
    attempt("d.Limits = [2, 1] (low > high)", lambda: d.write_attribute("Limits", [2.0, 1.0]))
    print(f"  - {snapshot(d)}")
    attempt("d.Position = 1.5 (between the inverted limits)", lambda: d.write_attribute("Position", 1.5))
    settle(d)
    print(f"  - state {d.state()}, Position {d.Position:g}")
    attempt("d.Limits = [1] (one value)", lambda: d.write_attribute("Limits", [1.0]))
    attempt("d.Limits = [-inf, inf]", lambda: d.write_attribute("Limits", [float("-inf"), float("inf")]))
    print(f"  - {snapshot(d)}")
    reset(d, config_limits)
    print(f"- reset: {snapshot(d)}")


def power(d: tango.DeviceProxy) -> None:
    section(f"Off, then a move ({d.name()})")
    reset(d, None)
    attempt("d.Off()", d.Off)
    print(f"  - state {d.state()}, status {d.status()!r}")
    attempt("d.Position = 1", lambda: d.write_attribute("Position", 1.0))
    print(f"  - state {d.state()}, Position {d.Position:g}")
    attempt("d.On()", d.On)
    print(f"  - state {d.state()}, status {d.status()!r}")


def positions(d: tango.DeviceProxy) -> None:
    section(f"SetDial / SetPosition / Offset / PresetPosition on {d.name()}")
    reset(d, None)
    print(f"- start: {snapshot(d)}")
    for text, func in (
        ("d.SetDial(1.0)", lambda: d.SetDial(1.0)),
        ("d.SetPosition(5.0)", lambda: d.SetPosition(5.0)),
        ("d.Offset = 2.0", lambda: d.write_attribute("Offset", 2.0)),
        ("d.SetDial(0.5)", lambda: d.SetDial(0.5)),
        ("d.PresetPosition = 3.0", lambda: d.write_attribute("PresetPosition", 3.0)),
    ):
        attempt(text, func)
        print(f"  - {snapshot(d)}")
    reset(d, None)


def signs(d: tango.DeviceProxy) -> None:
    section(f"Sign on {d.name()}")
    reset(d, None)
    d.Position = 1.5
    settle(d)
    print(f"- {snapshot(d)}")
    attempt("d.Sign = -1", lambda: d.write_attribute("Sign", -1))
    print(f"  - {snapshot(d)}")
    time.sleep(0.5)  # on purpose: whether Position is still stale some time later, not a wait for a condition
    print(f"  - 0.5 s later: {snapshot(d)}")
    attempt("d.SyncHard()", d.SyncHard)
    print(f"  - {snapshot(d)}")
    attempt("d.sign = 1", lambda: d.write_attribute("sign", 1))
    print(f"  - {snapshot(d)}")
    attempt("d.SyncHard()", d.SyncHard)
    print(f"  - {snapshot(d)}")
    reset(d, None)


def speed(d: tango.DeviceProxy) -> None:
    section(f"Velocity / Acceleration / AccTime on {d.name()}")
    reset(d, None)
    v, a = d.Velocity, d.Acceleration
    print(f"- Velocity={v:g} Acceleration={a:g} AccTime={d.AccTime:g}")
    attempt("d.Velocity = 1", lambda: d.write_attribute("Velocity", 1.0))
    print(f"  - Velocity={d.Velocity:g} Acceleration={d.Acceleration:g} AccTime={d.AccTime:g}")
    attempt("d.AccTime = 0.1", lambda: d.write_attribute("AccTime", 0.1))
    print(f"  - Velocity={d.Velocity:g} Acceleration={d.Acceleration:g} AccTime={d.AccTime:g}")
    attempt("d.Velocity = -1", lambda: d.write_attribute("Velocity", -1.0))
    d.Velocity, d.Acceleration = v, a
    print(f"- restored Velocity={d.Velocity:g} Acceleration={d.Acceleration:g}")


def names() -> None:
    section("Names in the Tango database (beacon's)")
    host_port = PREFIX.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    db = tango.Database(host, int(port))
    attempt("db.get_server_list('BlissAxisManager/*')", lambda: list(db.get_server_list("BlissAxisManager/*")))
    attempt(
        "db.get_device_class_list('BlissAxisManager/mock')",
        lambda: list(db.get_device_class_list("BlissAxisManager/mock")),
    )
    for alias in ("bm1", "bm2", "bm3"):
        attempt(f"db.get_device_from_alias({alias!r})", lambda a=alias: db.get_device_from_alias(a))
        attempt(
            f"DeviceProxy('tango://{host_port}/{alias}').name()  (alias)",
            lambda a=alias: tango.DeviceProxy(f"tango://{host_port}/{a}").name(),
        )


def main() -> None:
    print(f"# BlissAxisManager seen from PyTango {tango.__version__} (prefix {PREFIX})")
    bm1, bm2 = dev("bm1"), dev("bm2")
    interface(bm1)
    names()
    for d, lim in ((bm1, (-10.0, 10.0)), (bm2, (-100.0, 100.0))):
        section(f"Initial values of {d.name()}")
        reset(d, lim)
        print(f"- {snapshot(d)}; unit of Position: {d.attribute_query('Position').unit!r}; "
              f"ReadConfig('unit'): {d.ReadConfig('unit')!r}")  # fmt: skip
    moves(bm1)
    stops(bm1)
    limits(bm1, (-10.0, 10.0))
    limits(bm2, (-100.0, 100.0))
    power(bm1)
    positions(bm1)
    positions(bm2)
    signs(bm1)
    speed(bm1)
    reset(bm1, (-10.0, 10.0))
    reset(bm2, (-100.0, 100.0))
    print("\n(axes reset: Position 0, Offset 0, config limits)")


if __name__ == "__main__":
    main()
