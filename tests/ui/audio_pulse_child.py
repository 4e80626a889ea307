"""Child process of test_audio_pulse.py: PeerMeet's audio on real (PulseAudio) devices.

Runs in its own process because QtMultimedia connects to PulseAudio once per process (at first
use, reading PULSE_SERVER then): a test server started later would never be seen.

    python audio_pulse_child.py call <mic id> <speaker id>
        Two participants in one Qt app: A = QtAudioIO(mic) -> AudioFeed -> aiortc loopback
        pair -> SpeakerMixer -> B = QtAudioIO(speaker); as in the app, the devices on an
        AudioThread and the call on an EngineThread (the audio crosses threads both ways).
        stdin: "mute", "unmute", "stall" (blocks the GUI thread for 0.6 s).
    python audio_pulse_child.py devices|devices-on-thread <mic id> <speaker id>
        One QtAudioIO (on the GUI thread, or on an AudioThread as a call's); counts microphone
        frames and plays a 1000 Hz tone on the speaker.
        stdin: "status" -> "STATUS <json>" (devices in use, messages, frames read).
    python audio_pulse_child.py chime <mic id> <speaker id>
        The settings dialog's microphone meter, whose "Test" plays a chime on the speaker.
        stdin: "chime" (plays it; "OK chime" once it started).
    python audio_pulse_child.py knock <mic id> <speaker id>
        The app's sounds outside a call (DeskSound, speaker chosen in Settings).
        stdin: "knock" (plays the knock sound), "off" (Settings turn sounds off).
    python audio_pulse_child.py settings <mic id> <speaker id>
        The settings dialog with those devices chosen.
        stdin: "status" -> "STATUS <json>" (what its device menus list, what is chosen,
        whether the microphone's level shows and the speaker's Test button is on).
    python audio_pulse_child.py menu <mic id> <speaker id>
        A call's devices (DesktopMedia, those devices chosen in Settings) and the lists of its
        menus beside Mute. stdin: "status" -> "STATUS <json>" (``choices`` of "in", "out").
    python audio_pulse_child.py join <mic id> <speaker id>
        The join dialog, its preview live (the test pattern for a camera).
        stdin: "status" -> "STATUS <json>" (whether its microphone level shows, its note).

Protocol (lines): READY once audio flows, "OK <cmd>" per command, "STATS <json>" and exit 0
on "quit" or end of stdin.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, for app.*

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection
from PySide6.QtCore import QCoreApplication

from app.media.audio import ToneSource
from app.media.audio_tracks import AudioFeed, every_frame
from app.media.mixer import SpeakerMixer
from app.meeting.engine import EngineThread
from app.ui.audio_devices import Kind
from app.ui.audio_io import QtAudioIO
from app.ui.audio_thread import AudioThread
from app.ui.qt_loop import run_in_qt_loop


def say(line: str) -> None:
    print(line, flush=True)


async def until(condition: Callable[[], bool], limit: float) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"still waiting after {limit} s")
        await asyncio.sleep(0.02)


async def connect(pc_a: RTCPeerConnection, pc_b: RTCPeerConnection) -> None:
    await pc_a.setLocalDescription(await pc_a.createOffer())
    await pc_b.setRemoteDescription(pc_a.localDescription)
    await pc_b.setLocalDescription(await pc_b.createAnswer())
    await pc_a.setRemoteDescription(pc_b.localDescription)
    await until(lambda: pc_a.connectionState == pc_b.connectionState == "connected", 10)


async def commands() -> AsyncIterator[str]:
    """Lines from stdin until "quit" (or end of input), read by a daemon thread."""
    loop, queue = asyncio.get_running_loop(), asyncio.Queue[str]()

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line.strip())
        loop.call_soon_threadsafe(queue.put_nowait, "quit")

    threading.Thread(target=reader, daemon=True).start()
    while (command := await queue.get()) != "quit":
        yield command


async def answer_status(
    status: Callable[[], dict[str, object]], act: Callable[[str], None] = lambda _: None
) -> dict[str, object]:
    """Say READY, answer "status" with STATUS <json> (other commands: ``act``, then OK) until
    "quit"."""
    say("READY")
    async for command in commands():
        if command != "status":
            act(command)
        say("STATUS " + json.dumps(status()) if command == "status" else f"OK {command}")
    return status()


async def call(mic_id: str, speaker_id: str) -> dict[str, object]:
    aioice.ice.get_host_addresses = lambda *a, **k: ["127.0.0.1"]  # loopback only
    messages: list[str] = []
    audio = AudioThread(messages.append)  # as in the app: the devices on a thread of their own
    io_a = audio.open(mic_id, None)
    io_b = audio.open(None, speaker_id)
    engine = EngineThread()  # and the call on another
    engine.start()
    pc_a, pc_b, feed, mixer = await engine.run(open_call(io_a, io_b))
    try:
        await engine.run(connect(pc_a, pc_b))
        await until(lambda: mixer.level("A") > 0.05, 10)  # the tone made it to B's mixer
        say("READY")
        async for command in commands():
            if command == "stall":  # the GUI thread busy for 0.6 s (a dialog, a relayout)
                time.sleep(0.6)  # noqa: ASYNC251  (blocking the loop is the point)
            else:
                engine.call(feed.set_muted, command == "mute")
            say(f"OK {command}")
        return {
            "frames_received": mixer.frames_received.get("A", 0),
            "frames_read": feed.frames_read,
            "mic_dropped": io_a.mic.dropped,
            "speaker_dropped": io_b.dropped,
            "speaker_underruns": io_b.underruns,
            "mixer_underruns": mixer.underruns,
            "mic": io_a.device("in"),
            "speaker": io_b.device("out"),
            "messages": messages,
        }
    finally:
        await engine.run(close_call(pc_a, pc_b, feed, mixer))
        engine.close()
        audio.release(io_a)
        audio.release(io_b)
        audio.close()


async def open_call(
    io_a: QtAudioIO, io_b: QtAudioIO
) -> tuple[RTCPeerConnection, RTCPeerConnection, AudioFeed, SpeakerMixer]:
    """On the engine: A's feed reads io_a's microphone, B's mixer writes to io_b's speaker."""
    config = RTCConfiguration(iceServers=[])
    pc_a, pc_b = RTCPeerConnection(config), RTCPeerConnection(config)
    feed, mixer = AudioFeed(io_a.mic), SpeakerMixer(io_b)
    pc_b.on("track", lambda track: mixer.attach("A", track) if track.kind == "audio" else None)
    pc_a.addTrack(feed.new_track())
    return pc_a, pc_b, feed, mixer


async def close_call(
    pc_a: RTCPeerConnection, pc_b: RTCPeerConnection, feed: AudioFeed, mixer: SpeakerMixer
) -> None:
    await feed.aclose()
    await mixer.aclose()
    await pc_a.close()
    await pc_b.close()


async def devices(mic_id: str, speaker_id: str, threaded: bool) -> dict[str, object]:
    messages: list[str] = []
    audio = AudioThread(messages.append)  # threaded: as a call's devices run in the app
    if threaded:
        io = audio.open(mic_id or None, speaker_id or None)  # "": the system default
    else:  # on this (the GUI) thread, as the join dialog's preview uses them
        io = QtAudioIO(mic_id or None, speaker_id or None)
        io.deviceChanged.connect(messages.append)
    tone, mic_frames = ToneSource(1000.0), 0

    def step(_index: int) -> None:  # a mic reader and a speaker writer, every 20 ms
        nonlocal mic_frames
        while io.mic.read_frame() is not None:
            mic_frames += 1
        io.write(tone.read_frame() or b"")

    def status() -> dict[str, object]:
        return {
            "mic": io.device("in"),
            "speaker": io.device("out"),
            "messages": messages,
            "mic_frames": mic_frames,
            "underruns": io.underruns,
            "dropped": io.dropped,
            "wanted": [io.wanted("in"), io.wanted("out")],
            "inputs": QtAudioIO.input_devices(),
            "outputs": QtAudioIO.output_devices(),
        }

    def act(command: str) -> None:  # "use in|out ID": switch, as the call's device menu does
        verb, _, rest = command.partition(" ")
        kind, _, device_id = rest.partition(" ")
        if verb == "use" and kind in ("in", "out"):
            which: Kind = "in" if kind == "in" else "out"
            if threaded:
                audio.set_device(io, which, device_id or None)
            else:
                io.set_device(which, device_id or None)

    task = asyncio.get_running_loop().create_task(every_frame(step))
    try:
        await until(lambda: mic_frames >= 5 or io.device("in") is None, 5)
        return await answer_status(status, act)
    finally:
        task.cancel()
        await asyncio.wait([task])
        if threaded:
            audio.release(io)
        else:
            io.close()
        audio.close()


async def chime(mic_id: str, speaker_id: str) -> dict[str, object]:
    from app.ui.preview import MicMeter  # a widget: this mode runs a QApplication

    meter = MicMeter()
    meter.start(mic_id or None)
    try:
        say("READY")
        async for command in commands():
            started = meter.test_speaker(speaker_id or None) if command == "chime" else False
            say(f"OK {command}" if started or command != "chime" else "FAILED chime")
        assert meter.audio is not None
        return {
            "speaker": meter.audio.device("out"),
            "chimes": meter.chimes,
            "note": meter.note.full,
        }
    finally:
        meter.stop()


async def knock(_mic_id: str, speaker_id: str) -> dict[str, object]:
    from app.config import EngineConfig
    from app.ui.bridge import Bridge
    from app.ui.desk_sound import DeskSound

    def no_media(_loop: asyncio.AbstractEventLoop) -> Any:
        raise AssertionError("no call is joined here")

    bridge = Bridge(EngineConfig(display_name="Hana"), no_media)
    desk = DeskSound(bridge, lambda: speaker_id)
    try:
        say("READY")
        async for command in commands():
            if command == "knock":
                desk.play("knock")
            elif command == "off":
                bridge.sounds = False
            say(f"OK {command}")
        await asyncio.sleep(1.5)  # (the last sound is over: its speaker was let go)
        return {"played": desk.played, "open": desk.open_speakers}
    finally:
        desk.close()


async def settings(mic_id: str, speaker_id: str) -> dict[str, object]:
    import tempfile

    from app.meeting.settings import Settings, SettingsStore
    from app.ui.settings_dialog import SettingsDialog  # a widget: runs a QApplication

    store = SettingsStore(Path(tempfile.mkdtemp(prefix="pm-settings-")) / "settings.json")
    store.save(Settings(microphone=mic_id, speaker=speaker_id))
    dialog = SettingsDialog(store, live_meter=False)

    def status() -> dict[str, object]:
        combos = {"mics": dialog.mic, "speakers": dialog.speaker}
        shown = {key: [c.itemText(i) for i in range(c.count())] for key, c in combos.items()}
        chosen = {"mic": dialog.mic.currentData(), "speaker": dialog.speaker.currentData()}
        meter, test = dialog.meter.isVisibleTo(dialog), dialog.test_speaker.isEnabled()
        return {**shown, **chosen, "meter": meter, "test": test}

    try:
        return await answer_status(status)
    finally:
        dialog.reject()


async def join(mic_id: str, speaker_id: str) -> dict[str, object]:
    import tempfile

    from app.config import EngineConfig
    from app.meeting.settings import Settings, SettingsStore
    from app.ui.bridge import Bridge
    from app.ui.join_dialog import JoinDialog  # a widget: runs a QApplication
    from app.ui.preview import TEST_PATTERN

    store = SettingsStore(Path(tempfile.mkdtemp(prefix="pm-settings-")) / "settings.json")
    store.save(Settings(microphone=mic_id, speaker=speaker_id, camera=TEST_PATTERN))
    bridge = Bridge(EngineConfig("Ada"), lambda loop: None)
    dialog = JoinDialog(bridge, store, lambda: None)
    dialog.show()
    meter = dialog.preview.meter

    def status() -> dict[str, object]:
        level = meter.bar.isVisibleTo(dialog)
        return {"level": level, "note": meter.note.full, "running": meter.running}

    try:
        return await answer_status(status)
    finally:
        dialog.reject()


async def menu(mic_id: str, speaker_id: str) -> dict[str, object]:
    import tempfile

    from app.meeting.headless import close_media
    from app.meeting.settings import Settings, SettingsStore
    from app.ui.desktop_media import DesktopMedia
    from app.ui.preview import TEST_PATTERN

    store = SettingsStore(Path(tempfile.mkdtemp(prefix="pm-settings-")) / "settings.json")
    store.save(Settings(microphone=mic_id, speaker=speaker_id, camera=TEST_PATTERN))
    desktop, engine = DesktopMedia(store), EngineThread()
    engine.start()
    media = desktop.build(engine.loop, camera=False)

    def status() -> dict[str, object]:
        choices = desktop.choices(media)
        return {kind: choices[kind] for kind in ("in", "out")}

    try:
        return await answer_status(status)
    finally:
        await engine.run(close_media(media))
        desktop.release(media)
        engine.close()


async def main(mode: str, mic_id: str, speaker_id: str) -> int:
    if mode == "menu":
        stats = await menu(mic_id, speaker_id)
    elif mode == "settings":
        stats = await settings(mic_id, speaker_id)
    elif mode == "join":
        stats = await join(mic_id, speaker_id)
    elif mode == "call":
        stats = await call(mic_id, speaker_id)
    elif mode == "chime":
        stats = await chime(mic_id, speaker_id)
    elif mode == "knock":
        stats = await knock(mic_id, speaker_id)
    else:
        stats = await devices(mic_id, speaker_id, threaded=mode == "devices-on-thread")
    say("STATS " + json.dumps(stats))
    return 0


if __name__ == "__main__":
    if sys.argv[1] in ("chime", "settings", "join"):
        from PySide6.QtWidgets import QApplication

        app: QCoreApplication = QApplication(sys.argv[:1])
    else:
        app = QCoreApplication(sys.argv[:1])
    sys.exit(run_in_qt_loop(app, main(*sys.argv[1:4])))
