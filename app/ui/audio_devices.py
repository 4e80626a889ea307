"""Finding and opening audio devices through QtMultimedia, for QtAudioIO (app.ui.audio_io).

A device is named by its QAudioDevice id: bytes, or a str from ``describe()`` (the bytes read as
UTF-8 with surrogate escapes, so every id survives a round trip through settings). "in" is the
microphone side, "out" the speaker side. ``open_stream`` starts a device in the engine's PCM
format, or in the device's own with a converter when it does not take ours. The ``*_note``
functions word what the user is told when the device in use changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QIODevice, QObject
from PySide6.QtMultimedia import (
    QAudioDevice,
    QAudioFormat,
    QAudioSink,
    QAudioSource,
    QMediaDevices,
    QtAudio,
)

from app.errors import MediaError
from app.media.audio import PcmConverter
from app.media.pcm import SAMPLE_RATE
from app.ui import sound_server

SERVER_GONE = "The sound system stopped: no microphone or speaker until it is back."
SERVER_BACK = "The sound system is back: sound is on again."
SERVER_LOST = (
    "The sound system restarted, but PeerMeet cannot reconnect to it: "
    "restart PeerMeet to get sound back."
)
DeviceId = bytes | str
Kind = Literal["in", "out"]
WHAT: dict[Kind, str] = {"in": "Microphone", "out": "Speaker"}
IN_BUFFER_MS = 40  # QAudioSource buffer: how often Python sees microphone data, and its delay
OUT_BUFFER_MS = 80  # QAudioSink buffer: device-side room for the speaker's prebuffer cushion
_F = QAudioFormat.SampleFormat
_SAMPLE_TYPE = {_F.UInt8: "u8", _F.Int16: "s16", _F.Int32: "s32", _F.Float: "f32"}


def pcm_format() -> QAudioFormat:
    """s16 mono 48 kHz: what the engine speaks."""
    fmt = QAudioFormat()
    fmt.setSampleRate(SAMPLE_RATE)
    fmt.setChannelCount(1)
    fmt.setSampleFormat(_F.Int16)
    return fmt


def device_format(dev: QAudioDevice) -> tuple[QAudioFormat, PcmConverter]:
    """Our PCM format if ``dev`` takes it, else the device's own, with the converter between
    them; MediaError if there is none."""
    fmt = pcm_format()
    if not dev.isFormatSupported(fmt):
        fmt = dev.preferredFormat()
    kind_name = _SAMPLE_TYPE.get(fmt.sampleFormat(), fmt.sampleFormat().name)
    return fmt, PcmConverter(kind_name, fmt.channelCount(), fmt.sampleRate())


@dataclass
class Stream:
    """A started device: ``qt`` writes to / reads from ``io`` in ``fmt``; ``conv`` converts."""

    qt: QAudioSource | QAudioSink
    io: QIODevice
    fmt: QAudioFormat
    conv: PcmConverter


def open_stream(kind: Kind, dev: QAudioDevice, parent: QObject) -> Stream | str:
    """Start ``dev`` (push mode for a speaker); a message saying why not if that fails.

    Nothing is started while the sound server is gone: Qt would abort the process."""
    what = WHAT[kind].lower()
    if (server := sound_server.state()) != "ok":
        return SERVER_GONE if server == "down" else SERVER_LOST
    try:
        fmt, conv = device_format(dev)
    except MediaError as exc:
        return f"Cannot use {what} '{dev.description()}': {exc} Pick another in Settings."
    qt: QAudioSource | QAudioSink
    qt = QAudioSource(dev, fmt, parent) if kind == "in" else QAudioSink(dev, fmt, parent)
    buffer_ms = IN_BUFFER_MS if kind == "in" else OUT_BUFFER_MS
    qt.setBufferSize(fmt.bytesForDuration(buffer_ms * 1000))
    io = qt.start()
    if io is None or qt.error() != QtAudio.Error.NoError:
        qt.stop()
        qt.deleteLater()
        error = qt.error()
        why = "" if error == QtAudio.Error.NoError else f" ({error.name})"
        return (
            f"Could not open {what} '{dev.description()}'{why}. "
            "Check that it is plugged in and not used exclusively by another program."
        )
    return Stream(qt, io, fmt, conv)


def opt_id(device_id: DeviceId | None) -> bytes | None:
    if device_id is None:
        return None
    return device_id.encode("utf-8", "surrogateescape") if isinstance(device_id, str) else device_id


def describe(devices: list[QAudioDevice]) -> list[tuple[str, str]]:
    """(id, description) of each device."""
    return [(id_str(d), d.description()) for d in devices]


def id_str(dev: QAudioDevice) -> str:
    """The device's id as text (for PulseAudio: its sound-server name)."""
    return bytes(dev.id().data()).decode("utf-8", "surrogateescape")


def devices(kind: Kind) -> list[QAudioDevice]:
    return QMediaDevices.audioInputs() if kind == "in" else QMediaDevices.audioOutputs()


def default(kind: Kind) -> QAudioDevice | None:
    """The system default device, or None when there is none."""
    dev = QMediaDevices.defaultAudioInput() if kind == "in" else QMediaDevices.defaultAudioOutput()
    return None if dev.isNull() else dev


def fallback_note(kind: Kind, want: bytes | None, dev: QAudioDevice | None) -> str | None:
    """What to say when the device asked for (``want``) is not the one in use, else None."""
    if want is None or dev is None or bytes(dev.id().data()) == want:
        return None
    # (the id is the sound system's, e.g. alsa_input.usb-…: no name a person would know)
    what = WHAT[kind].lower()
    return f"The {what} you chose is not connected; using '{dev.description()}' instead."


def gone_note(kind: Kind, old: QAudioDevice, new: QAudioDevice | None) -> str:
    """What to say when the sound server moved our stream off ``old``, which is gone, to
    ``new`` (None: to no microphone, only the speakers' monitor, so it was stopped)."""
    if new is not None:
        now = new.description()
        return f"{WHAT[kind]} '{old.description()}' was disconnected. Now using '{now}'."
    return (
        f"Microphone '{old.description()}' was disconnected and no other microphone is "
        "connected: the others hear silence until you connect one."
    )


def switch_note(
    kind: Kind,
    old: QAudioDevice | None,
    new: QAudioDevice | None,
    failure: str | None,
    present: frozenset[str] | None = None,
) -> str:
    """What to say after moving from ``old`` to ``new`` (``failure``: why that did not work;
    ``present``: the devices the sound server has, None if it cannot tell: Qt may still list
    one that is gone, and "No speaker found" alone did not say the headset was unplugged)."""
    what = WHAT[kind]
    name = f"'{new.description()}'" if new else ""
    if old is None:
        return failure or f"{what} {name} connected and now in use."
    gone = present is not None and id_str(old) not in present
    if gone or all(d.id() != old.id() for d in devices(kind)):
        return f"{what} '{old.description()}' was disconnected. " + (
            failure or f"Now using {name}."
        )
    if new is not None and old.id() == new.id():
        return failure or f"{what} {name} stopped working and was restarted."
    return failure or f"{what} switched from '{old.description()}' to {name}."
