"""A P201 counter card and an MCA served by our simulator server, driven through the scan life cycle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tango

from bliss_shell.config import Config, ConfigRoot
from bliss_shell.controllers.acquisition import AcquisitionParameters, Timing
from bliss_shell.controllers.counter_card import CardAcquisition
from bliss_shell.controllers.tango_client import TangoDeviceError
from conftest import wait_for
from simulator_server import SimulatorServer

CARD, MCA = "id00/ct2/p201", "id00/mca/mca1"
RATES = [1000.0, 20000.0]  # counts/s of inputs 1 and 2


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    simulators = SimulatorServer({"CT2": [CARD], "SimMCA": [MCA]})
    yield simulators
    simulators.stop()


def card_config(url: str, timeout: float = 3.0) -> str:
    return f"""
- name: p201
  class: CounterCard
  tango_url: {url}
  timeout: {timeout}
  sim_rates: {RATES}
  sim_noise: false
- name: ct_timer
  class: CardCounter
  card: p201
  channel: 11
- name: ct1
  class: CardCounter
  card: p201
  channel: 1
- name: ct2
  class: CardCounter
  card: p201
  channel: 2
"""


def mca_config(url: str, timeout: float = 3.0, readout_time: float = 0.0) -> str:
    return f"""
- name: mca1
  class: TangoMCA
  tango_url: {url}
  nbins: 256
  timeout: {timeout}
  readout_time: {readout_time}
"""


def build(tmp_path: Path, text: str) -> Config:
    (tmp_path / "devices.yml").write_text(text)
    return Config([ConfigRoot(tmp_path)])


@pytest.fixture
def config(server, tmp_path) -> Config:
    return build(tmp_path, card_config(server.url(CARD)) + mca_config(server.url(MCA)))


def count_point(acquisition) -> dict:
    """One point as the engine counts it: trigger, wait until the device is ready (its own deadline), read."""
    acquisition.trigger()
    acquisition.wait_ready()
    return acquisition.read()


def test_card_counters_are_channels_of_their_card(config):
    p201, ct1, ct_timer = config.get("p201"), config.get("ct1"), config.get("ct_timer")
    assert ct1.controller is p201 and ct1.controller_name == "p201" and ct_timer.unit == "s"
    acquisition = p201.acquisition_object([ct1, ct_timer])
    assert acquisition.name == "p201" and acquisition.blocking and CardAcquisition.continuous_capable
    # counts stay integers, as the card gives them; the timer is in seconds
    assert [(c.name, c.dtype, c.shape, c.unit, c.source) for c in acquisition.channels] == [
        ("ct1", np.dtype("uint32"), (), None, ct1), ("ct_timer", np.dtype("float64"), (), "s", ct_timer)
    ]  # fmt: skip


def test_a_card_counter_must_name_a_card_and_a_channel_it_has(config, tmp_path):
    broken = build(tmp_path, card_config(config.get("p201").url) + "- name: ct9\n  class: CardCounter\n  card: ct1\n  channel: 1\n"
                   "- name: ct12\n  class: CardCounter\n  card: p201\n  channel: 12\n")  # fmt: skip
    with pytest.raises(TypeError, match=r": ct9: card 'ct1' is not a CounterCard$"):
        broken.get("ct9")
    with pytest.raises(ValueError, match=r": ct12: channel must be 1 to 10 \(inputs\) or 11 \(the timer\), not 12$"):
        broken.get("ct12")


# The public interface of BLISS's CT2 Tango server that a scan uses, as BLISS 1.11.4 defines it in
# bliss/tango/servers/ct2_ds/ct2_ds.py (class CT2; its ct2_ds.xmi is older and not what runs): name, Tango type,
# format, access, max_dim_x, max_dim_y, unit. The simulator must present exactly these and nothing else but sim_*.
REAL_ATTRIBUTES = {
    "last_error": (tango.CmdArgType.DevString, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ, 1, 0, ""),
    "last_point_nb": (tango.CmdArgType.DevLong, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ, 1, 0, ""),
    "acq_mode": (tango.CmdArgType.DevString, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE, 1, 0, ""),
    "acq_status": (tango.CmdArgType.DevString, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ, 1, 0, ""),
    "acq_expo_time": (tango.CmdArgType.DevDouble, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE, 1, 0, "s"),
    "acq_nb_points": (tango.CmdArgType.DevULong, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE, 1, 0, ""),
    "acq_channels": (tango.CmdArgType.DevShort, tango.AttrDataFormat.SPECTRUM, tango.AttrWriteType.READ_WRITE, 12, 0, ""),
    "acq_channels_data_indexes": (tango.CmdArgType.DevShort, tango.AttrDataFormat.SPECTRUM, tango.AttrWriteType.READ, 12, 0, ""),
    "timer_freq": (tango.CmdArgType.DevDouble, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ_WRITE, 1, 0, "Hz"),
    "counters": (tango.CmdArgType.DevULong, tango.AttrDataFormat.SPECTRUM, tango.AttrWriteType.READ, 12, 0, ""),
    "data": (tango.CmdArgType.DevULong, tango.AttrDataFormat.IMAGE, tango.AttrWriteType.READ, 65535, 65535, ""),
    "State": (tango.CmdArgType.DevState, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ, 1, 0, ""),
    "Status": (tango.CmdArgType.DevString, tango.AttrDataFormat.SCALAR, tango.AttrWriteType.READ, 1, 0, ""),
}
REAL_COMMANDS = {  # name: (argument in, argument out)
    "prepare_acq": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevVoid),
    "start_acq": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevVoid),
    "stop_acq": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevVoid),
    "State": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevState),
    "Status": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevString),
    "Init": (tango.CmdArgType.DevVoid, tango.CmdArgType.DevVoid),
}
# The rest of ct2_ds.py, not simulated (docs/tango.md): no scan of ours uses them.
NOT_SIMULATED = {"acq_point_period", "integrator_channels", "latches", "counters_status",  # attributes
                 "reset", "trigger_latch", "trigger_point", "dump_memory"}  # commands  # fmt: skip
REAL_MODES = ["IntTrigReadout", "SoftTrigReadout", "IntTrigSingle", "IntTrigMulti",
              "ExtTrigSingle", "ExtTrigMulti", "ExtGate", "ExtTrigReadout"]  # bliss/controllers/ct2/device.py AcqMode  # fmt: skip


def test_the_simulated_card_presents_the_real_ct2_servers_interface_and_only_sim_extras(config):
    proxy = tango.DeviceProxy(config.get("p201").url)
    proxy.Init()  # the device as the server starts it
    ours = {name: (c.data_type, c.data_format, c.writable, c.max_dim_x, c.max_dim_y, "" if c.unit == "No unit" else c.unit)
            for name in proxy.get_attribute_list() if not name.startswith("sim_")
            for c in [proxy.attribute_query(name)]}  # fmt: skip
    assert ours == REAL_ATTRIBUTES
    commands = {c.cmd_name: (c.in_type, c.out_type) for c in proxy.command_list_query() if not c.cmd_name.startswith("sim_")}
    assert commands == REAL_COMMANDS and not NOT_SIMULATED & (set(ours) | set(commands))
    # the real server's states, enum strings and defaults (device.py CT2.__init__, ct2_ds.py init_device)
    assert proxy.state() == tango.DevState.ON and proxy.status() == "Ready!"
    assert (proxy.acq_mode, proxy.acq_status, proxy.acq_nb_points, proxy.acq_expo_time, proxy.timer_freq) == (
        "IntTrigReadout", "Ready", 1, 1.0, 12.5e6)  # fmt: skip
    for mode in REAL_MODES[1:]:  # real names, not simulated: refused, naming what is
        with pytest.raises(tango.DevFailed, match="is not simulated; use IntTrigReadout"):
            proxy.acq_mode = mode
    with pytest.raises(tango.DevFailed, match="Invalid timer clock: 2000000.0"):
        proxy.timer_freq = 2e6  # not one of the card's clocks (device.py CT2.IntClockSrc)


def test_a_step_count_integrates_the_rates_over_the_count_time(config):
    p201 = config.get("p201")
    acquisition = p201.acquisition_object([config.get(name) for name in ("ct2", "ct_timer", "ct1")])
    acquisition.prepare(AcquisitionParameters(npoints=2, count_time=0.1, timing=Timing.STEP))
    assert p201.device.read_many(["acq_mode", "acq_nb_points", "acq_channels"])[:2] == ["IntTrigReadout", 1]
    assert p201.device.read("acq_channels").tolist() == [1, 2]  # the inputs counted; the timer always is
    acquisition.start()
    for _ in range(2):
        acquisition.trigger()
        acquisition.wait_ready()  # until the point's row is in the card's buffer, with a deadline
        block = acquisition.read()
        assert block == {"ct1": [100], "ct2": [2000], "ct_timer": [pytest.approx(0.1)]}
        assert type(block["ct1"][0]) is int and type(block["ct_timer"][0]) is float
        assert p201.device.read_many(["acq_status", "last_point_nb"]) == ["Ready", 0]  # one point per acquisition
    acquisition.stop()
    assert config.get("ct2").read(0.05) == 1000  # a counter read alone counts one point
    assert config.get("ct_timer").read(0.05) == pytest.approx(0.05)


def test_a_continuous_count_is_read_in_blocks_every_point_once(config):
    p201, ct1, ct_timer = config.get("p201"), config.get("ct1"), config.get("ct_timer")
    acquisition = p201.acquisition_object([ct1, ct_timer])
    acquisition.prepare(AcquisitionParameters(npoints=2000, count_time=0.001, timing=Timing.FREE, continuous=True))
    acquisition.start()  # armed
    acquisition.trigger()  # the motor passed the first point: the card counts every period from now on
    blocks = []
    received = 0
    while received < 2000:
        acquisition.wait_ready()  # the card is the clock: no more trigger; returns with new rows
        block = acquisition.read()
        assert len(block["ct1"]) == len(block["ct_timer"]) > 0
        blocks.append(block)
        received += len(block["ct1"])
    acquisition.wait_ready()  # returns at once: every point is in
    acquisition.stop()
    assert received == 2000 and len(blocks) > 1  # the server hands its rows over in batches
    assert np.concatenate([b["ct1"] for b in blocks]).tolist() == [1] * 2000
    assert np.concatenate([b["ct_timer"] for b in blocks]) == pytest.approx(np.full(2000, 0.001))
    assert p201.device.read_many(["last_point_nb", "acq_status"]) == [1999, "Ready"]
    assert p201.device.state() == tango.DevState.ON


def test_the_card_hands_out_its_rows_once_and_in_order(config):
    device = config.get("p201").device
    device.write("acq_expo_time", 0.001)
    device.write("acq_nb_points", 500)
    device.write("acq_channels", [2, 1])
    device.command("prepare_acq")
    assert device.read("acq_channels_data_indexes").tolist() == [1, 0]  # columns come in channel order
    assert device.read("data").shape == (1, 0) and device.read("last_point_nb") == -1  # empty, as the real server's
    device.command("start_acq")
    rows: list[np.ndarray] = []

    def all_read() -> bool:
        rows.extend(np.asarray(device.read("data")).reshape(-1, 4))  # the rows not read yet
        return len(rows) >= 500

    wait_for(all_read)
    assert device.read("acq_status") == "Ready" and device.read("data").size == 0
    table = np.array(rows)
    assert table.dtype == np.uint32 and device.read("timer_freq") == 12.5e6
    assert table[:, 3].tolist() == list(range(500))  # channel 12: the point number
    assert table[:, 2].tolist() == [12500] * 500  # channel 11: the timer, 1 ms in ticks of 12.5 MHz
    assert table[:, 0].tolist() == [1] * 500 and table[:, 1].tolist() == [20] * 500  # channels 1 and 2


def test_an_acquisition_started_again_without_prepare_acq_ends_without_a_point(config):
    device = config.get("p201").device
    device.write("acq_expo_time", 0.001)
    device.write("acq_nb_points", 1)
    device.command("prepare_acq")
    device.command("start_acq")
    wait_for(lambda: device.read("last_point_nb") == 0 and device.read("acq_status") == "Ready")
    wait_for(lambda: device.read("data").size == 4)  # the last rows come after acq_status Ready
    device.command("start_acq")  # as on the real card: the counters were not set up again
    assert device.read_many(["acq_status", "last_point_nb"]) == ["Ready", 0] and device.read("data").size == 0


def test_a_count_stopped_midway_keeps_what_was_counted(config):
    p201 = config.get("p201")
    acquisition = p201.acquisition_object([config.get("ct1")])
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=10.0, timing=Timing.STEP))
    acquisition.trigger()
    ticks = p201.device.read("timer_freq")  # per second
    wait_for(lambda: p201.device.read("counters")[10] > 0.01 * ticks)  # the timer has counted a little
    assert p201.device.read("acq_status") == "Running" and p201.device.state() == tango.DevState.ON  # as the real card
    acquisition.stop()
    assert p201.device.read("acq_status") == "Ready" and p201.device.read("data").size == 0  # the point under way is dropped
    counters = p201.device.read("counters")
    assert counters.dtype == np.uint32 and 0.01 < counters[10] / ticks < 10.0
    assert counters[0] == pytest.approx(RATES[0] * counters[10] / ticks, abs=1)
    acquisition.stop()  # stopping a stopped card is fine


def test_a_card_error_during_a_count_is_one_line_naming_the_card(config):
    p201 = config.get("p201")
    acquisition = p201.acquisition_object([config.get("ct1")])
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=10.0, timing=Timing.STEP))
    acquisition.trigger()
    p201.device.command("sim_error", "ct2 fifo transfer error")  # the real card's words
    with pytest.raises(RuntimeError) as error:
        acquisition.wait_ready()
    acquisition.stop()
    assert str(error.value) == f"p201: Tango device {p201.url}: the card failed: ct2 fifo transfer error (last_error)"
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=0.01, timing=Timing.STEP))  # prepare_acq clears it
    assert count_point(acquisition) == {"ct1": [10]}
    acquisition.stop()


def test_a_count_stopped_by_another_client_is_named_not_taken_for_a_point(server, tmp_path):
    ct1 = build(tmp_path, card_config(server.url(CARD), timeout=0.1)).get("ct1")
    acquisition = ct1.controller.acquisition_object([ct1])
    someone_else = tango.DeviceProxy(server.url(CARD))
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=2.0, timing=Timing.STEP))  # wait_ready waits 2.1 s
    acquisition.trigger()
    someone_else.stop_acq()  # one call after the trigger: 2 s before the point ends
    with pytest.raises(TimeoutError) as error:
        acquisition.wait_ready()  # acq_status Ready is not "the point is in": its row never comes
    assert str(error.value) == (f"p201: Tango device {server.url(CARD)}: the acquisition ended (acq_status Ready) "
                                "without point 0; was it stopped or prepared by another client?")  # fmt: skip


def test_a_count_after_an_acquisition_left_running_reads_only_its_own_point(config):
    p201, ct1 = config.get("p201"), config.get("ct1")
    someone_else = tango.DeviceProxy(p201.url)  # or a scan that failed, or a start_acq the server ran after a timeout
    someone_else.acq_expo_time, someone_else.acq_nb_points, someone_else.acq_channels = 0.001, 0, [1]  # until stopped
    someone_else.prepare_acq()
    someone_else.start_acq()
    wait_for(lambda: someone_else.last_point_nb >= 3)
    # the real server's prepare_acq empties data, then stops what runs: the last rows of what it stops land after;
    # the card is stopped first (stop_acq), so none of them is taken for a point of the count
    assert ct1.read(0.01) == 10
    assert someone_else.acq_status == "Ready" and someone_else.data.size == 0


def test_an_mca_counts_a_spectrum_that_scales_with_the_count_time(config):
    mca1 = config.get("mca1")
    acquisition = mca1.acquisition_object([mca1])
    assert mca1.controller is mca1 and mca1.controller_name == "mca1" and acquisition.continuous_capable  # it takes a gate
    assert [(c.name, c.shape) for c in acquisition.channels] == [("mca1", (256,))]
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=0.05, timing=Timing.STEP))
    short = count_point(acquisition)["mca1"][0]
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=0.2, timing=Timing.STEP))
    long = count_point(acquisition)["mca1"][0]
    acquisition.stop()
    assert short.shape == long.shape == (256,) and short.dtype == np.dtype(acquisition.channels[0].dtype)
    assert long.sum() / short.sum() == pytest.approx(4, rel=0.15)
    assert np.argmax(long) == pytest.approx(0.4 * 256, abs=3)  # the peak stands on the background


def test_the_mca_readout_time_keeps_it_running_after_the_count(config):
    mca1 = config.get("mca1")
    mca1.device.write("sim_readout_time", 3.0)  # long: the state is read during the readout on a loaded machine too
    acquisition = mca1.acquisition_object([mca1])
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=0.02, timing=Timing.STEP))
    acquisition.trigger()
    wait_for(lambda: mca1.device.read("ElapsedTime") >= 0.02)  # counting is over...
    assert mca1.device.state() == tango.DevState.RUNNING  # ...the readout is not
    acquisition.wait_ready()
    assert mca1.device.state() == tango.DevState.ON and acquisition.read()["mca1"][0].shape == (256,)


def test_a_gated_mca_gives_one_spectrum_per_gate_in_blocks(config):
    mca1 = config.get("mca1")
    acquisition = mca1.acquisition_object([mca1])
    acquisition.prepare(AcquisitionParameters(npoints=500, count_time=0.002, timing=Timing.FREE, continuous=True))
    # BLISS's McaAcquisitionSlave with trigger_mode=GATE: a spectrum per gate, handed over in blocks of about 0.1 s
    assert mca1.device.read_many(["trigger_mode", "hardware_points", "block_size"]) == ["GATE", 500, 50]
    acquisition.start()
    acquisition.trigger()  # the card starts: the gates begin
    acquisition.trigger()  # later triggers do nothing: the gates time the points
    blocks = []
    while sum(len(block) for block in blocks) < 500:
        acquisition.wait_ready()
        blocks.append(acquisition.read()["mca1"])
    acquisition.wait_ready()  # returns at once: every spectrum is in
    assert acquisition.read() == {"mca1": []}
    acquisition.stop()
    spectra = np.array([spectrum for block in blocks for spectrum in block])
    assert spectra.shape == (500, 256) and spectra.dtype == np.int32 and len(blocks) > 1
    assert spectra.sum() / 500 == pytest.approx(mca1.read(0.2).sum() / 100, rel=0.1)  # each counted one 2 ms gate
    assert mca1.device.read("trigger_mode") == "SOFTWARE"  # a step count puts it back


def test_a_gated_mca_refuses_a_gate_it_cannot_take_and_more_points_than_its_buffer(config):
    mca1 = config.get("mca1")
    acquisition = mca1.acquisition_object([mca1])
    write = f"mca1: Tango device {mca1.url}: Failed to write_attribute on device {MCA}, attribute "
    refusals = {
        (10, 0.0001): f"{write}PresetTime ({MCA}: a gate of 0.0001 s (PresetTime) is shorter than the shortest it takes "
                      "(0.0005 s); use a longer count time)",
        (100001, 0.01): f"{write}hardware_points ({MCA}: hardware_points 100001 is not 1 to 100000 (the spectra its buffer "
                        "holds); take fewer points per scan)",
    }  # fmt: skip
    for (npoints, count_time), message in refusals.items():
        with pytest.raises(TangoDeviceError) as error:
            acquisition.prepare(AcquisitionParameters(npoints, count_time, Timing.FREE, continuous=True))
        assert str(error.value) == message
        assert mca1.device.state() == tango.DevState.ON
    proxy = tango.DeviceProxy(mca1.url)
    with pytest.raises(tango.DevFailed, match="trigger_mode 'SYNC' is not simulated; use SOFTWARE or GATE"):
        proxy.trigger_mode = "SYNC"  # BLISS's third mode
    assert mca1.read(0.01).shape == (256,)  # it still counts


def test_a_gated_mca_stopped_by_another_client_is_named(config):
    mca1 = config.get("mca1")
    acquisition = mca1.acquisition_object([mca1])
    acquisition.prepare(AcquisitionParameters(npoints=1000, count_time=0.01, timing=Timing.FREE, continuous=True))
    acquisition.trigger()
    tango.DeviceProxy(mca1.url).Stop()
    with pytest.raises(RuntimeError) as error:
        while True:  # the spectra of the gates over come, then the end
            acquisition.wait_ready()
            acquisition.read()
    assert str(error.value).startswith(f"mca1: Tango device {mca1.url}: the acquisition ended after ")
    assert str(error.value).endswith(" of 1000 spectra; was it stopped by another client?")


def test_a_device_that_does_not_finish_is_a_clear_timeout(server, tmp_path):
    mca1 = build(tmp_path, mca_config(server.url(MCA), timeout=0.2, readout_time=60)).get("mca1")
    acquisition = mca1.acquisition_object([mca1])
    acquisition.prepare(AcquisitionParameters(npoints=1, count_time=0.01, timing=Timing.STEP))
    acquisition.trigger()
    with pytest.raises(TimeoutError) as error:
        acquisition.wait_ready()
    assert str(error.value) == (
        f"mca1: Tango device {server.url(MCA)}: still acquiring after 0.01 s count time + 0.2 s; "
        "raise `timeout` in its config if its readout is slow"
    )
    acquisition.stop()
    assert mca1.device.state() == tango.DevState.ON


def test_a_card_whose_server_dies_mid_count_is_one_line_naming_it(tmp_path):
    doomed = SimulatorServer({"CT2": [CARD]}, instance="doomed")
    try:
        ct1 = build(tmp_path, card_config(doomed.url(CARD))).get("ct1")
        acquisition = ct1.controller.acquisition_object([ct1])
        acquisition.prepare(AcquisitionParameters(npoints=1, count_time=10.0, timing=Timing.STEP))
        acquisition.trigger()
        doomed.process.kill()
        doomed.process.wait()
        with pytest.raises(TangoDeviceError) as error:
            acquisition.wait_ready()
    finally:
        doomed.stop()
    message = str(error.value)
    assert message.startswith(f"p201: Tango device {doomed.url(CARD)}: ") and "\n" not in message
