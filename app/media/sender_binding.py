"""How a pre-encoded track is hooked into aiortc 1.16's RTCRtpSender.

Stock, the sender encodes each frame of its track itself and keeps PLI/FIR (``_send_keyframe``)
and REMB (its encoder's ``target_bitrate``) to itself. ``bind_sender`` replaces two methods on
one sender instance: ``_next_encoded_frame`` takes the next packet from the shared encoder and
only packetizes it; ``_handle_rtcp_packet`` sends keyframe requests and bandwidth estimates to
the track (and from there to the shared encoder). Everything else (NACK/RTX, reports) is
untouched. Payloads are limited to PACKET_MAX bytes so a packet fits a 1200-byte datagram.
"""

from __future__ import annotations

import random
from typing import Any, Protocol

import aiortc.codecs.h264
import aiortc.codecs.vpx
from aiortc import clock
from aiortc.codecs import get_encoder
from aiortc.rtcrtpsender import RTCEncodedFrame
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTP_HISTORY_SIZE,
    RtcpPsfbPacket,
    RtpPacket,
    unpack_remb_fci,
)
from aiortc.utils import uint16_add, uint32_add

from app.net.fastpath import send_rtp

#: video payload bytes per RTP packet (aiortc: 1300). With the RTP header and extensions
#: (24 bytes), an RTX prefix (2) and the SRTP tag (up to 16), a datagram stays <= 1192 bytes.
PACKET_MAX = 1150


class PacketSource(Protocol):
    kind: str

    def use_codec(self, codec: str) -> None: ...

    async def recv(self) -> Any: ...

    def request_keyframe(self) -> None: ...

    def set_estimate(self, bitrate: int) -> None: ...


def limit_packet_size() -> None:
    """aiortc's packetizers read these module constants at each call; idempotent."""
    aiortc.codecs.vpx.PACKET_MAX = PACKET_MAX
    aiortc.codecs.h264.PACKET_MAX = PACKET_MAX


def _source(sender: Any) -> PacketSource | None:
    """The sender's track if it hands out encoded packets (it may be replaced later)."""
    track = sender.track
    return track if track is not None and hasattr(track, "use_codec") else None


def pack(packers: dict[str, Any], kind: str, codec: Any, item: Any) -> tuple[list[bytes], int]:
    """An encoded item's RTP payloads and timestamp: an Opus packet as it is, a video packet cut
    by aiortc's packetizer for ``codec`` (kept in ``packers``: VP8 numbers its pictures)."""
    if kind == "audio":
        return [bytes(item.packet)], int(item.packet.pts or 0)
    name = codec.name.lower()
    packer = packers.get(name)
    if packer is None:
        packer = packers[name] = get_encoder(codec)
    return packer.pack(item.packet)


def bind_sender(sender: Any) -> None:
    """Let ``sender`` send pre-encoded packets when its track hands them out. Checked per frame
    and per RTCP packet, so a track replaced later (replaceTrack) by a plain one, or by another
    packet source (the screen, say), just works."""
    limit_packet_size()
    packers: dict[str, Any] = {}  # codec -> aiortc encoder object, used only for pack()
    stock_next, handle_rtcp = sender._next_encoded_frame, sender._handle_rtcp_packet

    async def next_encoded_frame(codec: Any) -> RTCEncodedFrame | None:
        track = _source(sender)
        if track is None:
            return await stock_next(codec)  # type: ignore[no-any-return]
        name = codec.name.lower()
        track.use_codec(name)
        direct = getattr(track, "send_directly", None)
        if direct is not None:  # the track pushes its packets to us as they are encoded
            await direct(DirectSender(sender, codec))
            return None
        item = await track.recv()
        if not sender._enabled:
            return None
        payloads, timestamp = pack(packers, track.kind, codec, item)
        if not payloads:
            return None
        return RTCEncodedFrame(payloads, timestamp, item.audio_level)

    async def handle_rtcp_packet(packet: Any) -> None:
        track = _source(sender)
        if track is None:
            await handle_rtcp(packet)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_FIR, RTCP_PSFB_PLI):
            track.request_keyframe()
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                return
            if sender._ssrc in ssrcs:
                track.set_estimate(bitrate)
        else:
            await handle_rtcp(packet)

    sender._next_encoded_frame = next_encoded_frame
    sender._handle_rtcp_packet = handle_rtcp_packet


class DirectSender:
    """Sends a packet source's items on ``sender`` the moment they are offered: what aiortc's
    ``RTCRtpSender._run_rtp`` does per frame, without a task waking up per frame and peer.
    It keeps the sender's history (for NACK/RTX) and its report counters as aiortc does."""

    def __init__(self, sender: Any, codec: Any) -> None:
        self.sender, self.codec = sender, codec
        self._payload_type = codec.payloadType
        self._sequence = random.randint(0, 0xFFFF)
        self._origin = random.randint(0, 0xFFFFFFFF)
        self._history: dict[int, RtpPacket] = sender._RTCRtpSender__rtp_history
        self._map = sender._RTCRtpSender__rtp_header_extensions_map
        self._mid = sender._RTCRtpSender__mid

    def send(self, payloads: list[bytes], timestamp: int, audio_level: int | None) -> None:
        """Packetized payloads of one frame; raises ConnectionError once the link is down."""
        sender = self.sender
        if not sender._enabled or not payloads:
            return
        timestamp = uint32_add(self._origin, timestamp)
        last = len(payloads) - 1
        abs_send_time = (clock.current_ntp_time() >> 14) & 0x00FFFFFF
        for i, payload in enumerate(payloads):
            marker = 1 if i == last else 0
            packet = RtpPacket(
                self._payload_type, marker, self._sequence, timestamp, sender._ssrc, payload
            )
            packet.extensions.abs_send_time = abs_send_time
            packet.extensions.mid = self._mid
            if audio_level is not None:
                packet.extensions.audio_level = (False, -audio_level)
            self._history[self._sequence % RTP_HISTORY_SIZE] = packet
            send_rtp(sender.transport, packet.serialize(self._map))
            sender._RTCRtpSender__octet_count += len(payload)
            sender._RTCRtpSender__packet_count += 1
            self._sequence = uint16_add(self._sequence, 1)
        sender._RTCRtpSender__ntp_timestamp = clock.current_ntp_time()
        sender._RTCRtpSender__rtp_timestamp = timestamp
