"""Child process of test_unplugged_in_use.py: sound devices unplugged while they are in use.

As audio_pulse_child.py (whose protocol it speaks: READY, "status" -> STATUS <json>, other
commands -> "OK <cmd>", "quit" -> STATS <json>), in a process of its own so that Qt connects
to the test's PulseAudio server.

    python unplug_child.py settings <mic id> <speaker id>
        The Settings dialog, shown, with its live microphone level; those devices chosen.
        stdin: "test" (clicks the speaker's Test button).
    python unplug_child.py call <mic id> <speaker id>
        A call's devices (AudioThread, as DesktopMedia opens them) and its speaker mixer on an
        EngineThread; the device news collected as the call's banner gets it.
        stdin: "tone" (1.5 s of 1000 Hz mixed into the speaker, as a sound of the call's own),
        "cue <kind>" (the call's sound of that kind: app.media.cues).

Every status says the longest the GUI thread went without running (``gap_ms``, since the
last status) and how many threads the process has.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, for app.*

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.media import cues
from app.media.audio import ToneSource
from app.media.mixer import SpeakerMixer
from app.meeting.engine import EngineThread
from app.meeting.settings import Settings, SettingsStore
from app.ui.audio_thread import AudioThread
from app.ui.qt_loop import run_in_qt_loop
from app.ui.settings_dialog import SettingsDialog
from tests.ui.audio_pulse_child import answer_status, say


class Heartbeat:
    """The longest gap between two runs of a 20 ms timer on the GUI thread (a hang shows)."""

    def __init__(self) -> None:
        self.last, self.worst = time.monotonic(), 0.0
        self._timer = QTimer(interval=20)
        self._timer.timeout.connect(self._beat)
        self._timer.start()

    def _beat(self) -> None:
        now = time.monotonic()
        self.worst, self.last = max(self.worst, now - self.last), now

    def taken(self) -> dict[str, object]:
        worst, self.worst = self.worst, 0.0
        return {"gap_ms": round(worst * 1000), "threads": threading.active_count()}


async def settings(mic_id: str, speaker_id: str) -> dict[str, object]:
    store = SettingsStore(Path(tempfile.mkdtemp(prefix="pm-settings-")) / "settings.json")
    store.save(Settings(microphone=mic_id, speaker=speaker_id))
    dialog = SettingsDialog(store)
    dialog.show()
    meter, beat = dialog.meter, Heartbeat()

    def status() -> dict[str, object]:
        audio = meter.audio
        return {
            "mics": [dialog.mic.itemText(i) for i in range(dialog.mic.count())],
            "speakers": [dialog.speaker.itemText(i) for i in range(dialog.speaker.count())],
            "level_shown": meter.isVisibleTo(dialog),
            "level": meter.bar.value(),
            "note": meter.note.full,
            "speaker_note": dialog.speaker_note.full if dialog.speaker_note.isVisible() else "",
            "test": dialog.test_speaker.isEnabled(),
            "mic": audio.device("in") if audio else None,
            "speaker": audio.device("out") if audio else None,
            "chimes": meter.chimes,
            "chiming": meter.chiming,
            **beat.taken(),
        }

    def act(command: str) -> None:
        if command == "test":
            dialog.test_speaker.click()

    try:
        return await answer_status(status, act)
    finally:
        dialog.reject()


async def call(mic_id: str, speaker_id: str) -> dict[str, object]:
    banner: list[str] = []  # what the call window's banner is given (DesktopMedia's notice)
    audio = AudioThread(banner.append)
    io = audio.open(mic_id or None, speaker_id or None)
    engine = EngineThread()
    engine.start()
    mixer = SpeakerMixer(io)
    beat = Heartbeat()

    def status() -> dict[str, object]:
        return {
            "mic": io.device("in"),
            "speaker": io.device("out"),
            "messages": banner,
            **beat.taken(),
        }

    def act(command: str) -> None:
        verb, _, kind = command.partition(" ")
        if verb == "tone":
            tone = ToneSource(1000.0)
            engine.call(mixer.play, [tone.read_frame() or b"" for _ in range(75)])
        elif verb == "cue":
            engine.call(mixer.play, cues.frames(kind))

    try:
        return await answer_status(status, act)
    finally:
        await engine.run(mixer.aclose())
        engine.close()
        audio.release(io)
        audio.close()


async def main(mode: str, mic_id: str, speaker_id: str) -> int:
    import json

    stats = await (settings if mode == "settings" else call)(mic_id, speaker_id)
    say("STATS " + json.dumps(stats))
    return 0


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    sys.exit(run_in_qt_loop(app, main(*sys.argv[1:4])))
