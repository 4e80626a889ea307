"""Camera self-view and microphone level, to check both before joining (and in Settings).

``MicMeter`` is the live microphone level (a bar and a one-line note); ``MediaPreview`` adds a
mirrored self-view of the camera chosen in Settings, painted by a VideoTile. Each owns what it
opens (the VideoFeed's capture thread, the tile's converter thread, the QtAudioIO) and releases
it in an idempotent ``stop()``: the call needs the camera, so stop the preview before joining.
Problems (no camera, camera busy, no microphone) are said in a one-line note, never raised.
"""

from __future__ import annotations

import asyncio
import logging
import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from app.errors import MediaError
from app.media.audio import chime, rms
from app.media.camera import CameraCapture, list_cameras
from app.media.pcm import FRAME_MS
from app.media.synthetic import SyntheticCamera
from app.media.video import FrameSource, VideoFeed
from app.meeting.settings import Settings, SettingsStore
from app.ui import style
from app.ui.audio_io import QtAudioIO
from app.ui.elided import ElidedLabel
from app.ui.forms import named
from app.ui.video_tile import VideoTile

log = logging.getLogger(__name__)
METER_MS = 50
TICK_MS = 33  # the self-view looks for a newer frame this often
VIDEO = (640, 480, 30)  # what a call captures
PREVIEW_FPS = 15
PREVIEW_SIZE = (320, 180)
MIC_HINT = "Speak to test your microphone."
NO_MIC = "No microphone found"
NO_MIC_NOTE = f"{NO_MIC}: connect one to be heard."


TEST_PATTERN = "test-pattern"  # Settings' camera choice for the moving test pattern


class NoCamera(SyntheticCamera):
    """The stand-in when this computer has no camera: a call starts with its video off
    (app.ui.main.DesktopMedia), so it is only ever seen as black."""


def camera_source(settings: Settings, width: int, height: int, fps: float) -> FrameSource:
    """The camera chosen in Settings (else the first one), the test pattern if chosen, or
    NoCamera."""
    if settings.camera == TEST_PATTERN:
        return SyntheticCamera(width, height, fps, label=settings.display_name)
    cameras = list_cameras()
    device = settings.camera if settings.camera in cameras else next(iter(cameras), None)
    if device:
        return CameraCapture(device, width, height, fps)
    return NoCamera(width, height, fps, label="no camera")


class Note(ElidedLabel):
    """A one-line note: elided to the width it is given, the whole text in the tooltip."""

    def __init__(self, text: str = "", *, elide: bool = True) -> None:
        super().__init__(text, elide=elide)
        self.setProperty("role", "dim")


class MicMeter(QWidget):
    """The microphone's level, live, with a note below. ``stop()`` releases the device.

    ``speakerNews(text)``: what became of the speaker a test chime was played on (unplugged
    mid-chime, the rest went to another; back again), once a test was played."""

    speakerNews = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, *, elide: bool = False, bar_width: int = 0
    ) -> None:
        super().__init__(parent)
        self.bar = named(QProgressBar(maximum=100, textVisible=False), "MicMeter")
        self.bar.setFixedHeight(8)
        self.bar.setAccessibleName("Microphone level")  # (a screen reader said "progress bar")
        if bar_width:
            self.bar.setFixedWidth(bar_width)
        self.note = Note(MIC_HINT, elide=elide)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        layout.addWidget(self.bar)
        if bar_width:
            layout.setAlignment(self.bar, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.note)
        self.audio: QtAudioIO | None = None
        self._timer = QTimer(self, interval=METER_MS)
        self._timer.timeout.connect(self._tick)
        self._chime: list[bytes] = []  # speaker-test frames still to play
        self.chimes = 0  # speaker tests started
        self._chime_timer = QTimer(self, interval=FRAME_MS)
        self._chime_timer.timeout.connect(self._play_chime)

    @property
    def running(self) -> bool:
        return self.audio is not None

    @property
    def chiming(self) -> bool:
        """Whether the speaker test's chime is still being played."""
        return bool(self._chime)

    def say(self, text: str) -> None:
        self.note.say(text)

    def start(self, device: str | None = None) -> None:
        """Open the microphone (None: the system default) and show its level."""
        if self.audio is not None:
            return
        self.say(MIC_HINT)
        try:
            self.audio = QtAudioIO(device or None)
        except MediaError as exc:
            self.say(str(exc))
            return
        self.audio.deviceChanged.connect(self._device_note)
        if self.audio.device("in") is None:
            self.say(NO_MIC_NOTE)
        self._timer.start()

    def set_device(self, device: str | None) -> None:
        if self.audio is not None:
            self.audio.set_device("in", device or None)

    def test_speaker(self, device: str | None, note: Note | None = None) -> bool:
        """Play a short chime on ``device`` (None: the system default); False, with a note
        saying why, when there is no sound device to play it on. ``note``: where that is said
        (the speaker's own, emptied when all is well), else in the microphone's note."""
        say = note.say if note is not None else self.say
        if note is not None:
            say("")
        if self.audio is None:
            say("No sound device is open: check that a sound server is running.")
            return False
        self.audio.set_device("out", device or None)
        used = self.audio.device("out")
        if used is None:
            say("No speaker found: connect one to hear the others.")
            return False
        if device and used[0] != device:
            say(f"That speaker is not connected: the chime plays on {used[1]}.")
        self._chime = chime()
        self.chimes += 1
        self._chime_timer.start()
        self._play_chime()
        return True

    def _play_chime(self) -> None:
        if self.audio is None or not self._chime:
            self._chime_timer.stop()
            return
        self.audio.write(self._chime.pop(0))

    def stop(self) -> None:
        """Close the microphone and let its QtAudioIO go. Idempotent."""
        self._chime_timer.stop()
        self._chime.clear()
        self._timer.stop()
        self.bar.setValue(0)
        audio, self.audio = self.audio, None
        if audio is not None:
            audio.close()
            # deleted by Qt, not by a collection: its device watchers' slots hold it, and Qt
            # holds them while it lives (each Settings dialog and join kept one for good)
            audio.deleteLater()

    def _device_note(self, text: str) -> None:
        words = text.lower()
        if "microphone" in words:
            self.say(text)
        elif "speaker" in words and self.chimes:  # (before a test, not the one picked)
            self.speakerNews.emit(text)

    def _tick(self) -> None:
        if self.audio is None:
            return
        level = 0.0
        while (frame := self.audio.mic.read_frame()) is not None:
            level = max(level, rms(frame))
        db = 20 * math.log10(level) if level > 0 else -60.0
        self.bar.setValue(int(max(0.0, min(100.0, (db + 60) * 100 / 60))))


class MediaPreview(QWidget):
    """Self-view of the chosen camera (mirrored) above the microphone meter."""

    def __init__(
        self, settings: SettingsStore, parent: QWidget | None = None, *, live: bool = True
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self.name = settings.load().display_name
        self.mic_on = self.cam_on = True  # how the person will join (shown on the self-view)
        self.feed: VideoFeed | None = None
        self._no_camera = False  # no camera at all: the call starts with video off
        self.tile: VideoTile | None = None
        self.box = named(QWidget(), "PreviewBox")
        self.box.setFixedSize(style.by_text_size(*PREVIEW_SIZE))
        self._box_layout = QVBoxLayout(self.box)
        self._box_layout.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("Preview off", alignment=Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setProperty("role", "dim")
        self._box_layout.addWidget(self.placeholder)
        self.camera_note = Note()
        self.camera_note.hide()
        self.meter = MicMeter(elide=True, bar_width=style.by_text(PREVIEW_SIZE[0]))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.box, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.camera_note)
        layout.addWidget(self.meter)
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._tick)
        QtAudioIO.watch(self, self._show_level, lambda: None)  # a microphone plugged in or out
        self._show_level()
        if live:
            self.start()

    @property
    def running(self) -> bool:
        return self.feed is not None or self.meter.running

    def set_name(self, name: str) -> None:
        self.name = name.strip() or Settings().display_name
        if self.tile is not None:
            self.tile.set_name(self.name)

    def set_media(self, mic: bool, cam: bool) -> None:
        """Show on the self-view whether the person will join muted, or with video stopped
        (then the camera is released: its light goes off)."""
        self.mic_on, self.cam_on = mic, cam
        video = cam and not self._no_camera  # no camera: the call starts with video off
        if self.tile is not None:
            self.tile.set_media(mic, video)
        if self.feed is not None:
            self.feed.set_enabled(video)
            self._camera_note(self._what_they_see())

    def start(self) -> None:
        """Open the camera and microphone chosen in Settings. Does nothing if already running."""
        if self.running:
            return
        settings = self._settings.load()
        self._start_camera(settings)
        self.meter.start(settings.microphone or None)

    def stop(self) -> None:
        """Release the camera and microphone and stop every thread. Idempotent."""
        self._timer.stop()
        self.meter.stop()
        tile, self.tile = self.tile, None
        if tile is not None:
            tile.close_tile()
            tile.hide()
            self._box_layout.removeWidget(tile)
            tile.deleteLater()
            self.placeholder.show()
        feed, self.feed = self.feed, None
        if feed is not None:
            feed.close()

    def _show_level(self) -> None:
        """Without a microphone its level bar is hidden (it showed, empty, over "No microphone
        found"), as in Settings; back when one is plugged in."""
        mic = bool(QtAudioIO.input_devices())
        self.meter.bar.setVisible(mic)
        if not mic:
            self.meter.say(NO_MIC_NOTE)
        elif self.meter.note.full.startswith(NO_MIC):  # (its words, or QtAudioIO's)
            self.meter.say(MIC_HINT)

    def _start_camera(self, settings: Settings) -> None:
        try:
            source = camera_source(settings, VIDEO[0], VIDEO[1], PREVIEW_FPS)
            feed = VideoFeed(source, PREVIEW_FPS, label=self.name, loop=_loop())
        except (MediaError, RuntimeError, ValueError) as exc:
            self._camera_note(f"No camera preview: {exc}")
            return
        self.feed = feed
        self._no_camera = isinstance(source, NoCamera)
        video = self.cam_on and not self._no_camera  # as the call will start (DesktopMedia)
        feed.set_enabled(video)
        self._camera_note(self._what_they_see())
        self.tile = VideoTile(self.name, lambda: feed.latest, mirror=True, parent=self.box)
        self.tile.set_caption("you")
        self.tile.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # (nothing to do with it here)
        self.tile.set_media(self.mic_on, video)
        self.placeholder.hide()
        self._box_layout.addWidget(self.tile)
        self.tile.show()
        self._timer.start()

    def _what_they_see(self) -> str:
        if self._no_camera:
            return "No camera found: you join with your video off."
        return "" if self.cam_on else "Video off: the others see your initials."

    def _camera_note(self, text: str) -> None:
        self.camera_note.setVisible(bool(text))
        self.camera_note.say(text)

    def _tick(self) -> None:
        if self.feed is None or self.tile is None:
            return
        if self.feed.last_error and self.camera_note.full != self.feed.last_error:
            self._camera_note(self.feed.last_error)  # busy or unplugged: the pattern shows
        self.tile.tick()


def _loop() -> asyncio.AbstractEventLoop:
    """The app's asyncio loop (qasync), running or not yet."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()
