"""PeerMeet audio on real audio devices: a private PulseAudio server with virtual ones.

The Qt side runs in a child process (audio_pulse_child.py): QtMultimedia binds to a PulseAudio
server once per process, at first use, so it must start after the test's server exists.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from app.media.audio import CHIME_HZ, tone_power
from tests.pulse import PulseServer, pulse_server  # noqa: F401  (the "pulse" fixture)

pytestmark = [pytest.mark.audio, pytest.mark.timeout(60)]
CHILD = Path(__file__).with_name("audio_pulse_child.py")
RATE = 48_000


class Child:
    """audio_pulse_child.py in its own process, spoken to in lines (see its docstring)."""

    script = CHILD  # (another child speaking the same lines: a subclass names it)

    def __init__(self, pulse: PulseServer, log: Path, *args: str) -> None:
        env = {**pulse.client_env, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
        self.log = log
        with open(log, "w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, str(self.script), *args],
                env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
            )  # fmt: skip
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line.strip())
        self._lines.put("EOF")

    def expect(self, prefix: str, timeout: float = 10.0) -> str:
        """The next line, which must start with ``prefix``; the rest of it is returned."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            line = "(nothing)"
        if not line.startswith(prefix):
            raise AssertionError(f"child said {line!r}, expected {prefix}...\n{self.stderr()}")
        return line[len(prefix) :].strip()

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def status(self) -> dict[str, Any]:
        self.send("status")
        result: dict[str, Any] = json.loads(self.expect("STATUS"))
        return result

    def quit(self) -> dict[str, Any]:
        self.send("quit")
        stats: dict[str, Any] = json.loads(self.expect("STATS"))
        assert self.proc.wait(timeout=10) == 0, self.stderr()
        return stats

    def stderr(self) -> str:
        return self.log.read_text()[-3000:]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(name="child_factory")
def children(pulse: PulseServer, tmp_path: Path) -> Any:
    children: list[Child] = []

    def start(*args: str) -> Child:
        child = Child(pulse, tmp_path / f"child{len(children)}.log", *args)
        children.append(child)
        return child

    yield start
    for child in children:
        child.close()


def playing(pulse: PulseServer, monitor: str, freq: float = 1000.0) -> bool:
    """The child's tone is heard on ``monitor``: median power of 20 ms blocks, so the glitch
    of a stream starting or stopping on the same sink (PulseAudio rewinds it) does not count."""
    pcm = pulse.record(monitor, 0.6)
    powers = sorted(tone_power(seconds(pcm, t / 50, (t + 1) / 50), freq) for t in range(5, 30))
    if powers[len(powers) // 2] <= 0.05:
        print(f"{freq} Hz on {monitor}: block powers {[round(p, 3) for p in powers]}")
    return powers[len(powers) // 2] > 0.05


def seconds(pcm: bytes, start: float, end: float) -> bytes:
    return pcm[int(start * RATE) * 2 : int(end * RATE) * 2]


def tone_call(pulse: PulseServer, child_factory: Any) -> Any:
    """A call child whose A hears a 440 Hz tone ("mic_a") and whose B plays into "spk_b"."""
    pulse.add_sink("a_in", "A's room")  # what A's microphone hears
    pulse.add_source("mic_a", master="a_in.monitor", description="A's microphone")
    pulse.add_sink("spk_b", "B's speaker")
    pulse.set_default_sink("spk_b")
    pulse.set_default_source("mic_a")
    pulse.play_tone("a_in", 440.0, seconds=30)
    child = child_factory("call", "mic_a", "spk_b")
    child.expect("READY", timeout=20)
    return child


def record_around(pulse: PulseServer, child: Any, command: str, after: float, span: float) -> bytes:
    """B's speaker for ``span`` seconds, ``command`` given to the child ``after`` seconds in."""
    recorded: dict[str, bytes] = {}
    recorder = threading.Thread(
        target=lambda: recorded.update(pcm=pulse.record("spk_b.monitor", span))
    )
    recorder.start()
    time.sleep(after)
    child.send(command)
    child.expect(f"OK {command}")
    recorder.join(timeout=10)
    return recorded["pcm"]


@pytest.fixture(params=["devices", "devices-on-thread"])
def devices_mode(request: pytest.FixtureRequest) -> str:
    """QtAudioIO on the GUI thread (the join dialog's preview) or on an AudioThread (a call)."""
    return str(request.param)


def test_tone_crosses_a_call_on_real_devices_and_mute_silences_it(
    pulse: PulseServer, child_factory: Any
) -> None:
    child = tone_call(pulse, child_factory)
    pcm = record_around(pulse, child, "mute", 0.8, 2.0)

    on = tone_power(seconds(pcm, 0.1, 0.7), 440.0)
    off = tone_power(seconds(pcm, 1.4, 2.0), 440.0)
    assert on > 0.05, f"440 Hz power on B's speaker {on:.4f}, expected ~0.09 (amplitude 0.3)"
    assert off < 1e-4, f"440 Hz power on B's speaker after mute {off:.6f}, expected silence"
    blocks = [seconds(pcm, t / 100, (t + 1) / 100) for t in range(200)]
    silent_from = next(i for i in range(80, 200) if not any(b"".join(blocks[i:])))
    stats = child.quit()
    assert stats["frames_received"] > 50 and stats["messages"] == []
    assert stats["mic"][0] == "mic_a" and stats["speaker"][0] == "spk_b"
    print(
        f"\n440 Hz power at B's speaker: {on:.4f} unmuted, {off:.1e} muted; silent "
        f"{silent_from * 10 - 800} ms after the mute command (one-way latency, +-10 ms); {stats}"
    )


def test_a_stalled_gui_thread_does_not_silence_the_speaker(
    pulse: PulseServer, child_factory: Any
) -> None:
    """The devices run on their own thread (app.ui.audio_thread) and the call on its own: while
    the GUI thread is blocked for 0.6 s, B's speaker keeps playing A's tone."""
    child = tone_call(pulse, child_factory)
    time.sleep(0.5)  # past the first frames' settling
    pcm = record_around(pulse, child, "stall", 0.3, 1.6)
    powers = [tone_power(seconds(pcm, t / 50, (t + 1) / 50), 440.0) for t in range(5, 75)]
    stats = child.quit()
    quiet = "".join("q" if p < 0.02 else " " for p in powers)
    longest = max((len(run) for run in quiet.split()), default=0)
    # with the devices on the GUI thread this was 0.6 s of silence (30 blocks); now at most a
    # single 20 ms block is ever softer (a hiccup, one run in eight)
    assert longest <= 1, f"{longest * 20} ms gap in B's speaker: block powers {powers}; {stats}"


def test_unplugged_devices_fall_back_to_the_defaults(
    pulse: PulseServer, child_factory: Any, devices_mode: str
) -> None:
    # A USB headset was plugged in and became the default; then it is unplugged. (Qt 6.12 only
    # notices removals that change the default device - see QtAudioIO's docstring.)
    pulse.plug("speakers", "builtin_mic")
    pulse.plug("headset", "usb_mic", default=True)
    child = child_factory(devices_mode, "usb_mic", "headset")
    child.expect("READY", timeout=20)
    status = child.status()
    assert status["mic"][0] == "usb_mic" and status["speaker"][0] == "headset"
    assert ["usb_mic", "usb_mic"] in status["inputs"] and ["headset", "headset"] in status[
        "outputs"
    ]
    assert playing(pulse, "headset.monitor")  # the child's tone

    pulse.remove("usb_mic")
    pulse.remove("headset")
    assert pulse.pactl("get-default-source") == "builtin_mic"
    deadline = time.monotonic() + 5
    while status["mic"][0] != "builtin_mic" or status["speaker"][0] != "speakers":
        assert time.monotonic() < deadline, f"no switch to the defaults: {status}"
        time.sleep(0.1)
        status = child.status()
    assert "Microphone 'usb_mic' was disconnected. Now using 'builtin_mic'." in status["messages"]
    assert "Speaker 'headset' was disconnected. Now using 'speakers'." in status["messages"]
    frames = status["mic_frames"]
    assert playing(pulse, "speakers.monitor")
    assert child.status()["mic_frames"] > frames + 5  # the new microphone delivers
    child.quit()


def test_devices_picked_during_a_call_are_used_at_once(
    pulse: PulseServer, child_factory: Any, devices_mode: str
) -> None:
    """What the call's device menu does (AudioThread.set_device): another microphone and
    speaker at once, and back to the system's default ones."""
    pulse.plug("speakers", "builtin_mic", default=True)
    pulse.plug("headset", "usb_mic")
    child = child_factory(devices_mode, "", "")
    child.expect("READY", timeout=20)
    status = child.status()
    assert status["mic"][0] == "builtin_mic" and status["speaker"][0] == "speakers"
    assert status["wanted"] == ["", ""]
    for command in ("use in usb_mic", "use out headset"):
        child.send(command)
        child.expect(f"OK {command}")
    status = child.status()
    assert status["mic"][0] == "usb_mic" and status["speaker"][0] == "headset"
    assert status["wanted"] == ["usb_mic", "headset"]
    assert playing(pulse, "headset.monitor")  # the child's tone, on the new speaker
    frames = status["mic_frames"]
    time.sleep(0.3)
    assert child.status()["mic_frames"] > frames + 5  # the new microphone delivers
    child.send("use in ")
    child.expect("OK use in")
    status = child.status()
    assert status["mic"][0] == "builtin_mic" and status["wanted"] == ["", "headset"]
    child.quit()


def test_missing_devices_at_start_use_the_defaults(
    pulse: PulseServer, child_factory: Any, devices_mode: str
) -> None:
    pulse.plug("room", "builtin_mic")
    pulse.add_sink("speakers")
    pulse.set_default_source("builtin_mic")
    pulse.set_default_sink("speakers")
    child = child_factory(devices_mode, "gone_mic", "gone_speaker")
    child.expect("READY", timeout=20)
    status = child.quit()
    assert status["mic"][0] == "builtin_mic" and status["speaker"][0] == "speakers"
    assert status["messages"][:2] == [
        "The microphone you chose is not connected; using 'builtin_mic' instead.",
        "The speaker you chose is not connected; using 'speakers' instead.",
    ]  # (a loaded machine may add a watchdog restart: no sound for a second)


def test_no_devices_then_plugged_in(
    pulse: PulseServer, child_factory: Any, devices_mode: str
) -> None:
    child = child_factory(devices_mode, "", "")  # "" is no device id: use the defaults (none yet)
    child.expect("READY", timeout=20)
    status = child.status()
    assert status["mic"] is None and status["speaker"] is None
    assert status["inputs"] == [] and status["outputs"] == []
    assert any(m.startswith("No microphone found") for m in status["messages"])
    assert any(m.startswith("No speaker found") for m in status["messages"])

    pulse.plug("headset", "usb_mic")
    deadline = time.monotonic() + 5
    while status["mic"] is None or status["speaker"] is None:
        assert time.monotonic() < deadline, f"new devices not picked up: {status}"
        time.sleep(0.1)
        status = child.status()
    assert "Speaker 'headset' connected and now in use." in status["messages"]
    assert "Microphone 'usb_mic' connected and now in use." in status["messages"]
    assert playing(pulse, "headset.monitor")
    child.quit()


def test_streams_killed_under_us_are_restarted(
    pulse: PulseServer, child_factory: Any, devices_mode: str
) -> None:
    # Qt 6.12 keeps reporting ActiveState/NoError when PulseAudio kills its streams: only
    # QtAudioIO's stall watchdog notices (no data in for 1 s / no room out for 1 s).
    pulse.plug("headset", "usb_mic")
    child = child_factory(devices_mode, "usb_mic", "headset")
    child.expect("READY", timeout=20)
    assert pulse.kill_streams("headset") == 1 and pulse.kill_streams("usb_mic") == 1
    deadline = time.monotonic() + 5
    status = child.status()
    while len(status["messages"]) < 2:
        assert time.monotonic() < deadline, f"no restart: {status}"
        time.sleep(0.1)
        status = child.status()
    assert sorted(status["messages"]) == [
        "Microphone 'usb_mic' stopped working and was restarted.",
        "Speaker 'headset' stopped working and was restarted.",
    ]
    frames = status["mic_frames"]
    assert playing(pulse, "headset.monitor")
    assert child.status()["mic_frames"] > frames + 5
    child.quit()


def test_the_settings_speaker_test_plays_a_chime_on_the_chosen_speaker(
    pulse: PulseServer, child_factory: Any
) -> None:
    """Two speakers; the default is "desk", the one chosen in Settings is "headset": the
    chime's two notes are heard on the headset, and nothing on the desk speaker."""
    pulse.add_sink("desk", "Desk speaker")
    pulse.add_sink("headset", "Headset")
    pulse.set_default_sink("desk")
    child = child_factory("chime", "", "headset")
    child.expect("READY", timeout=20)
    recorded: dict[str, bytes] = {}
    recorders = [
        threading.Thread(
            target=lambda n=name: recorded.update({n: pulse.record(f"{n}.monitor", 1.2)})
        )
        for name in ("headset", "desk")
    ]
    for recorder in recorders:
        recorder.start()
    time.sleep(0.2)
    child.send("chime")
    child.expect("OK chime")
    for recorder in recorders:
        recorder.join(timeout=10)
    stats = child.quit()
    assert stats["chimes"] == 1 and stats["speaker"][0] == "headset", stats
    low, high = CHIME_HZ
    heard = [
        max(tone_power(seconds(recorded["headset"], t / 10, (t + 1) / 10), hz) for t in range(12))
        for hz in (low, high)
    ]
    assert min(heard) > 0.01, heard  # both notes (amplitude 0.25: about 0.03)
    quiet = max(tone_power(recorded["desk"], hz) for hz in (low, high))
    assert quiet < 1e-4, quiet


def test_the_speaker_test_on_a_speaker_unplugged_meanwhile_plays_on_the_default(
    pulse: PulseServer, child_factory: Any
) -> None:
    """Qt keeps listing a removed speaker that was not the default (see QtAudioIO), so opening
    it fails: the chime plays on the default instead, and the note says so."""
    pulse.add_sink("desk", "Desk speaker")
    pulse.add_sink("headset", "Headset")
    pulse.set_default_sink("desk")
    child = child_factory("chime", "", "headset")
    child.expect("READY", timeout=20)
    pulse.remove("headset")
    time.sleep(0.3)
    recorded: dict[str, bytes] = {}
    recorder = threading.Thread(
        target=lambda: recorded.update(desk=pulse.record("desk.monitor", 1.2))
    )
    recorder.start()
    time.sleep(0.2)
    child.send("chime")
    child.expect("OK chime")
    recorder.join(timeout=10)
    stats = child.quit()
    assert stats["speaker"][0] == "desk", stats
    assert "That speaker is not connected: the chime plays on Desk" in stats["note"], stats
    assert max(tone_power(recorded["desk"], hz) for hz in CHIME_HZ) > 0.01
