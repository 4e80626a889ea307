"""A desktop call's camera, microphone and speaker (``DesktopMedia``), chosen in Settings when
the call starts and switchable during it (``choices``/``use``: the menus beside Mute and Stop
video, app.ui.device_menu). A device picked in a call is also saved as the Settings choice.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from functools import partial
from typing import Protocol

from app.errors import MediaError, StorageError
from app.media.audio import NullSink, PcmRing
from app.media.audio_tracks import AudioFeed
from app.media.camera import CameraCapture, camera_name, list_cameras
from app.media.mixer import SpeakerMixer
from app.media.video import VideoFeed
from app.meeting.media import LocalMedia
from app.meeting.settings import Settings, SettingsStore
from app.ui.audio_devices import Kind
from app.ui.audio_io import QtAudioIO
from app.ui.audio_present import ConnectedDevices
from app.ui.audio_thread import AudioThread
from app.ui.preview import TEST_PATTERN, VIDEO, NoCamera, camera_source

log = logging.getLogger(__name__)
NO_CAMERA = "No camera found: the others see your initials. Connect one, then press Start video."
#: the device lists' first entry: the system's default device, or the first camera found
DEFAULT_AUDIO, AUTO_CAMERA = "System default", "Automatic (first camera found)"
NONE_FOUND, PATTERN = "No camera found", "Test pattern (a moving picture)"  # (as in Settings)
#: the sound lists' first entry when the system has no device of the kind (not "System default")
NO_SOUND: dict[Kind, str] = {"in": "No microphone found", "out": "No speaker found"}
#: what ``choices`` gives: kind ("in", "out", "camera") -> ([(id, name)], the id chosen now)
Choices = dict[str, tuple[list[tuple[str, str]], str]]


class CallDevices(Protocol):
    """What a call window needs to switch devices (DesktopMedia is one)."""

    def choices(self, media: LocalMedia) -> Choices: ...

    def use(self, media: LocalMedia, kind: str, device_id: str) -> bool: ...

    def follow(self, media: LocalMedia, settings: Settings) -> bool: ...


class DesktopMedia:
    """Camera, microphone and speaker for each call, chosen in Settings when the call starts."""

    def __init__(
        self, settings: SettingsStore, notice: Callable[[str], None] | None = None
    ) -> None:
        self._settings = settings
        self._notice = notice  # what a person should know about the devices (a banner)
        self._audio: dict[int, tuple[AudioThread, QtAudioIO]] = {}
        self._camera: dict[int, str] = {}  # each call's camera choice (a Settings value)
        self._connected: ConnectedDevices | None = None  # (made when a menu first opens)

    def build(self, loop: asyncio.AbstractEventLoop, camera: bool = True) -> LocalMedia:
        """On the GUI thread; the video is delivered on ``loop``, and the microphone and
        speaker run on an audio thread of their own (app.ui.audio_thread). ``camera=False``:
        the camera is not opened until the person starts their video."""
        settings = self._settings.load()
        source = camera_source(settings, *VIDEO)
        missing = isinstance(source, NoCamera)  # no camera: video off, not a test pattern
        if missing and camera and self._notice is not None:
            self._notice(NO_CAMERA)
        video = VideoFeed(
            source,
            VIDEO[2],
            label=settings.display_name,
            loop=loop,
            enabled=camera and not missing,
            blank_on_failure=True,  # a camera unplugged in the call: black, then video off
        )
        audio = AudioThread(self._notice)  # device news: no microphone, unplugged, switched
        try:
            audio_io: QtAudioIO | None = audio.open(
                settings.microphone or None, settings.speaker or None
            )
        except MediaError as exc:
            log.warning("no sound in this call: %s", exc)
            audio.close()
            audio_io = None
            if self._notice is not None:
                self._notice(f"No sound in this call: {exc}")
        mic = audio_io.mic if audio_io is not None else PcmRing()
        speaker = audio_io if audio_io is not None else NullSink()
        feed = AudioFeed(mic)
        feed.present = partial(audio_io.has_device, "in") if audio_io else lambda: False
        media = LocalMedia(feed, video, SpeakerMixer(speaker))
        if audio_io is not None:
            self._audio[id(media)] = (audio, audio_io)
        self._camera[id(media)] = settings.camera
        return media

    def choices(self, media: LocalMedia) -> Choices:
        """The devices this call may switch to, and the one chosen now, for each kind (no
        microphone or speaker kinds for a call that has no sound at all)."""
        cameras = [(path, camera_name(path)) for path in list_cameras()]
        found: Choices = {
            "camera": (
                [("", AUTO_CAMERA if cameras else NONE_FOUND), *cameras, (TEST_PATTERN, PATTERN)],
                self._camera_in_use(media),
            )
        }
        audio = self._audio.get(id(media))
        if audio is not None:
            io = audio[1]
            # (Qt alone lists a headset unplugged in the call: picking it did nothing)
            self._connected = self._connected or ConnectedDevices(poll=False)
            self._connected.refresh()
            kinds: tuple[tuple[Kind, list[tuple[str, str]]], ...] = (
                ("in", self._connected.listed("in")),
                ("out", self._connected.listed("out")),
            )
            for kind, listed in kinds:
                want, dev = io.wanted(kind), io.device(kind)
                # the one in use is checked (a wanted device that is gone fell back to another)
                current = want if not want or (dev and dev[0] == want) else (dev[0] if dev else "")
                first = DEFAULT_AUDIO if listed else NO_SOUND[kind]
                found[kind] = ([("", first), *listed], current)
        return found

    def _camera_in_use(self, media: LocalMedia) -> str:
        """The camera menu's checked entry: the camera chosen ("" Automatic, as "" is the
        system default for sound), unless another is in use (the chosen one was not there: the
        first one found), or none is (it failed: nothing)."""
        chosen, source = self._camera.get(id(media), ""), media.video.source
        if media.video.last_error:
            return "\0"  # (no entry)
        if chosen and isinstance(source, CameraCapture) and source.device != chosen:
            return source.device
        return chosen

    def use(self, media: LocalMedia, kind: str, device_id: str) -> bool:
        """Switch this call's ``kind`` device ("in", "out", "camera"; "" for the default) and
        keep it as the Settings choice. A device that cannot be opened is said (notice), and
        the call goes on with what it can get (the default device). False: no camera found
        (the caller turns the video off)."""
        found = True
        settings = self._settings.load()
        if kind == "camera":
            self._camera[id(media)] = device_id
            settings = dataclasses.replace(settings, camera=device_id)
            source = camera_source(settings, *VIDEO)
            found = not isinstance(source, NoCamera)
            if not found and self._notice is not None:
                self._notice(NO_CAMERA)
            media.video.set_source(source)
        elif kind in ("in", "out"):
            audio = self._audio.get(id(media))
            if audio is None:
                return True
            thread, io = audio
            thread.set_device(io, "in" if kind == "in" else "out", device_id or None)
            if kind == "in":
                settings = dataclasses.replace(settings, microphone=device_id)
            else:
                settings = dataclasses.replace(settings, speaker=device_id)
        else:
            raise ValueError(f"no such device kind: {kind!r}")
        try:
            self._settings.save(settings)
        except StorageError as exc:  # the switch itself worked: only the choice is not kept
            if self._notice is not None:
                self._notice(str(exc))
        return found

    def follow(self, media: LocalMedia, settings: Settings) -> bool:
        """Settings were saved during the call: switch each device chosen there that is not
        this call's choice (as if picked in the call's menus). False: no camera found."""
        audio = self._audio.get(id(media))
        if audio is not None:
            kinds: tuple[tuple[Kind, str], ...] = (
                ("in", settings.microphone),
                ("out", settings.speaker),
            )
            for kind, chosen in kinds:
                if audio[1].wanted(kind) != chosen:
                    self.use(media, kind, chosen)
        if settings.camera != self._camera.get(id(media), ""):
            return self.use(media, "camera", settings.camera)
        return True

    def camera_ready(self, media: LocalMedia) -> bool:
        """Before the video starts: a call that has no camera looks again (one may have been
        plugged in since) and switches to it; False, and said, if there is still none."""
        source = media.video.source
        gone = isinstance(source, CameraCapture) and source.device not in list_cameras()
        if not isinstance(source, NoCamera) and not media.video.last_error and not gone:
            return True  # (a camera that failed in the call, or was unplugged: look again too)
        source = camera_source(self._settings.load(), *VIDEO)
        if isinstance(source, NoCamera):
            if self._notice is not None:
                self._notice(NO_CAMERA)
            return False
        media.video.set_source(source)
        return True

    def release(self, media: LocalMedia) -> None:
        """After the engine closed ``media``: close its microphone and speaker, and their
        thread."""
        audio = self._audio.pop(id(media), None)
        self._camera.pop(id(media), None)
        if audio is not None:
            thread, audio_io = audio
            thread.release(audio_io)
            thread.close()
