"""Receive-side tuning of one RTCPeerConnection: low-latency video and adaptive audio buffers.

``install(pc)`` swaps each receiver's aiortc jitter buffer for ours (VideoJitterBuffer for
video, AudioPlayout for audio) and returns the owner of what it started. A video receiver also
decodes on the loop (app.net.decoding.InlineDecoder instead of a thread per receiver) and gets
a cheaper bandwidth estimator (app.net.remb). With
``set_stock(True)`` (the benchmark's baseline, process-wide) it keeps aiortc's own buffers and
only counts bytes, so both modes report the same figures. ``received_bytes(track)`` tells how
many RTP payload bytes arrived for a remote track.

It also makes retransmissions reach the receiver. aiortc 1.16 registers only a receiver's media
SSRC with the transport's RTP router, not its RTX SSRC; an RTX packet is then routed by payload
type alone, which fails as soon as two video transceivers share it (camera and screen do): every
retransmission is dropped and NACK repair never works. ``install`` registers the RTX SSRCs too,
and asks again for a packet whose retransmission is lost as well (app.net.renack).
"""

from __future__ import annotations

import weakref
from typing import Any

from aiortc.jitterbuffer import JitterBuffer

from app.net import decoding, remb, renack, rtpin
from app.net.jitter import VideoJitterBuffer
from app.net.playout import AudioPlayout

_BUFFER = "_RTCRtpReceiver__jitter_buffer"  # aiortc 1.16's private attribute
_CODECS = "_RTCRtpReceiver__codecs"
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_RTX_SSRC = "_RTCRtpReceiver__rtx_ssrc"  # RTX SSRC -> media SSRC, set by receive()
_stock = False
#: remote track -> a weak reference to its buffer. Weak both ways: the buffer holds its receiver,
#: which holds the track, so a strong value would keep every past connection alive for good
_by_track: weakref.WeakKeyDictionary[Any, weakref.ref[Any]] = weakref.WeakKeyDictionary()


def set_stock(enabled: bool) -> None:
    """Process-wide: leave aiortc's receive buffers alone (benchmark baseline)."""
    global _stock
    _stock = enabled


def stock() -> bool:
    return _stock


def received_bytes(track: Any) -> int | None:
    """RTP payload bytes received so far for a remote track, or None if not known."""
    ref = _by_track.get(track)
    buffer = ref() if ref is not None else None
    return None if buffer is None else int(buffer.bytes_in)


class _Counting:
    """aiortc's own jitter buffer, counting what passes through."""

    def __init__(self, inner: JitterBuffer) -> None:
        self._inner = inner
        self.packets_in = self.bytes_in = 0

    @property
    def capacity(self) -> int:
        return int(self._inner.capacity)

    def add(self, packet: Any) -> tuple[bool, Any]:
        self.packets_in += 1
        self.bytes_in += len(packet.payload)
        return self._inner.add(packet)


class ReceiveTuning:
    """What ``install`` put on one connection; ``aclose()`` (idempotent) stops its tasks."""

    def __init__(self) -> None:
        self.buffers: dict[str, Any] = {}  # mid index ("0", "1", ...) -> buffer
        self._playouts: list[AudioPlayout] = []
        self.renackers: dict[str, renack.Renacker] = {}  # mid index -> re-NACK of that receiver

    def _track_seen(self, receiver: Any, buffer: Any) -> None:
        if receiver.track is not None and receiver.track not in _by_track:
            _by_track[receiver.track] = weakref.ref(buffer)

    async def aclose(self) -> None:
        for playout in self._playouts:
            await playout.aclose()
        for renacker in self.renackers.values():
            await renacker.aclose()


def _codec_of(receiver: Any) -> Any:
    def name(payload_type: int) -> str:
        codec = getattr(receiver, _CODECS, {}).get(payload_type)
        return codec.name.lower() if codec is not None else ""

    return name


def route_rtx(receiver: Any) -> None:
    """Let ``receiver``'s RTX packets through the transport's RTP router (see the module doc).
    Wraps ``receiver.receive`` (called on negotiation); an RTX SSRC already routed to another
    receiver is left alone."""
    stock_receive = receiver.receive

    async def receive(parameters: Any) -> None:
        await stock_receive(parameters)
        router = getattr(receiver.transport, "_rtp_router", None)
        table = getattr(router, "ssrc_table", None)
        if table is None:
            return
        rtx = set(getattr(receiver, _RTX_SSRC, {}))
        rtx.update(e.rtx.ssrc for e in parameters.encodings if e.rtx is not None)
        for ssrc in rtx:
            table.setdefault(ssrc, receiver)

    receiver.receive = receive


def install(pc: Any) -> ReceiveTuning:
    """Tune every receiver of ``pc`` (call once its transceivers exist, before negotiation)."""
    tuning = ReceiveTuning()
    if not _stock:
        decoding.install()  # aiortc's decoder threads: ours leaves an InlineDecoder alone
    for index, transceiver in enumerate(pc.getTransceivers()):
        receiver = transceiver.receiver
        buffer: Any
        if _stock:
            buffer = _Counting(getattr(receiver, _BUFFER))
        elif transceiver.kind == "audio":
            buffer = AudioPlayout(receiver, _codec_of(receiver))
            tuning._playouts.append(buffer)
        else:
            inline = decoding.InlineDecoder(receiver)  # decodes on the loop (see decoding)
            setattr(receiver, _DECODER_QUEUE, inline)
            buffer = VideoJitterBuffer(_codec_of(receiver), backlog=inline.qsize)
            route_rtx(receiver)
            remb.install(receiver)  # aiortc's bandwidth estimator, cheaper
            tuning.renackers[str(index)] = renack.attach(pc, receiver, buffer)
        if not _stock:
            rtpin.enable(receiver)  # packets handled in one plain call (app.net.fastpath)
        setattr(receiver, _BUFFER, _Watch(buffer, receiver, tuning))
        tuning.buffers[str(index)] = buffer
    return tuning


class _Watch:
    """Forwards to the buffer; on the first packet, remembers which track it feeds and steps
    aside (the receiver then hands packets to the buffer itself)."""

    def __init__(self, buffer: Any, receiver: Any, tuning: ReceiveTuning) -> None:
        self._buffer, self._receiver, self._tuning = buffer, receiver, tuning
        self._seen = False

    @property
    def capacity(self) -> int:
        return int(self._buffer.capacity)

    def add(self, packet: Any) -> tuple[bool, Any]:
        if not self._seen:
            self._seen = True
            self._tuning._track_seen(self._receiver, self._buffer)
            if self._receiver.track is not None:  # seen: the buffer takes packets directly
                setattr(self._receiver, _BUFFER, self._buffer)
        return self._buffer.add(packet)  # type: ignore[no-any-return]
