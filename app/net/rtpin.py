"""One received RTP packet through one of our receivers, as one plain call.

aiortc 1.16's ``RTCRtpReceiver._handle_rtp_packet`` is a coroutine, reached through another
(``RTCDtlsTransport._handle_rtp_data``), though it only ever waits when it sends RTCP. For the
receivers app.net.receive tunes (``enable``), app.net.fastpath calls ``handle`` instead: the
same steps in the same order (bandwidth estimate and REMB, stream statistics, RTX unwrapping,
NACK, depayloading, the jitter buffer, PLI, decoding), with RTCP sends started on the spot
(fastpath.run_now). A receiver whose ``_handle_rtp_packet`` was replaced on the instance (a
test's packet dropper, say) keeps going through it.
"""

from __future__ import annotations

from typing import Any

from aiortc import clock
from aiortc.codecs import depayload, is_rtx
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci, unwrap_rtx

_P = "_RTCRtpReceiver__"  # aiortc 1.16's private attributes of RTCRtpReceiver
_FLAG = "_peermeet_rtpin"


def enable(receiver: Any) -> None:
    setattr(receiver, _FLAG, True)


def enabled(receiver: Any) -> bool:
    """True if ``handle`` may take this receiver's packets."""
    return getattr(receiver, _FLAG, False) and "_handle_rtp_packet" not in vars(receiver)


def handle(receiver: Any, packet: Any, arrival_time_ms: int, run: Any) -> None:
    """``RTCRtpReceiver._handle_rtp_packet``; ``run`` starts a coroutine (an RTCP send)."""
    if not receiver._enabled:
        return
    private = vars(receiver)
    estimator = private[_P + "remote_bitrate_estimator"]
    if estimator is not None and packet.extensions.abs_send_time is not None:
        size = len(packet.payload) + packet.padding_size
        remb = estimator.add(arrival_time_ms, packet.extensions.abs_send_time, size, packet.ssrc)
        rtcp_ssrc = private[_P + "rtcp_ssrc"]
        if rtcp_ssrc is not None and remb is not None:
            fci = pack_remb_fci(*remb)
            feedback = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=fci)
            run(receiver._send_rtcp(feedback))
    private[_P + "active_ssrc"][packet.ssrc] = clock.current_datetime()
    codecs = private[_P + "codecs"]
    codec = codecs.get(packet.payload_type)
    if codec is None:
        return
    streams = private[_P + "remote_streams"]
    stats = streams.get(packet.ssrc)
    if stats is None:
        stats = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
    stats.add(packet)
    if is_rtx(codec):
        original_ssrc = private[_P + "rtx_ssrc"].get(packet.ssrc)
        apt = codec.parameters.get("apt")
        if original_ssrc is None or len(packet.payload) < 2 or not isinstance(apt, int):
            return
        if apt not in codecs:
            return
        packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
        codec = codecs[apt]
    nack = private[_P + "nack_generator"]
    if nack is not None and nack.add(packet):
        run(receiver._send_rtcp_nack(packet.ssrc, sorted(nack.missing)))
    try:
        packet._data = depayload(codec, packet.payload) if packet.payload else b""
    except ValueError:
        return
    pli, encoded_frame = private[_P + "jitter_buffer"].add(packet)
    decode_error = private[_P + "decoder_error"]
    if decode_error.is_set():
        decode_error.clear()
        pli = pli or private[_P + "kind"] == "video"
    if pli:
        run(receiver._send_rtcp_pli(packet.ssrc))
    if encoded_frame is not None and private[_P + "decoder_thread"]:
        encoded_frame.timestamp = private[_P + "timestamp_mapper"].map(encoded_frame.timestamp)
        private[_P + "decoder_queue"].put((codec, encoded_frame))
