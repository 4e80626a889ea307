"""One RTCPeerConnection per remote peer. The only module that creates RTCPeerConnection.

Every connection has the same fixed layout so offer and answer always line up without
renegotiation: m-line 0 audio, 1 camera video, 2 screen video (idle until shared), plus one
reliable data channel ("chat") opened by the offerer. The peer with the lower id offers.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import aioice.ice
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.rtcdtlstransport import certificate_digest
from cryptography import x509

from app.config import EngineConfig, IceServer
from app.errors import PeerMeetError, ProtocolError
from app.net import codec_prefs, fastpath, protocol, receive, sctpguard, turnclose
from app.net.addresses import host_port, same_network
from app.net.candidates import CandidatePolicy
from app.net.iceservers import check_url
from app.net.sas import CodeNonce
from app.net.sparing import worth_saying

log = logging.getLogger(__name__)
KINDS = ("audio", "video", "screen")  # by transceiver index
#: How a path reads to a person: same network, straight across the internet (public
#: addresses: "direct"; through NATs: "srflx"), or via a TURN relay.
PATH_LABELS = {"host": "LAN", "direct": "direct", "srflx": "direct", "relay": "relay"}
_original_host_addresses = aioice.ice.get_host_addresses
_loopback_only = False


def set_loopback_only(enabled: bool) -> None:
    """aioice skips 127.0.0.1; when every peer is on this machine, offer only 127.0.0.1 instead.

    Process-wide (aioice reads a module function): the CLI sets it for loopback links."""
    global _loopback_only
    _loopback_only = enabled


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if _loopback_only:
        return ["127.0.0.1"] if use_ipv4 else []
    return _original_host_addresses(use_ipv4=use_ipv4, use_ipv6=use_ipv6)


aioice.ice.get_host_addresses = _host_addresses


@dataclass(frozen=True)
class LinkPolicy:
    """A call's network choices: relay-only privacy and which remote candidates to accept."""

    relay_only: bool = False
    candidates: CandidatePolicy = field(default_factory=CandidatePolicy)

    @classmethod
    def from_config(cls, config: EngineConfig) -> LinkPolicy:
        return cls(config.relay_only, CandidatePolicy.from_config(config))


def _effective(policy: LinkPolicy | None) -> LinkPolicy:
    chosen = policy or LinkPolicy()
    if _loopback_only and not chosen.candidates.allow_loopback:  # every peer is on 127.0.0.1
        cands = replace(chosen.candidates, allow_loopback=True, allow_lan=True)
        chosen = replace(chosen, candidates=cands)
    return chosen


class IdleVideoTrack(MediaStreamTrack):
    """Placeholder for the screen sender until the user shares: sends nothing, costs nothing."""

    kind = "video"

    async def recv(self) -> Any:
        await asyncio.Event().wait()  # until the sender is stopped (cancelled)


#: the fingerprints aiortc gives of a certificate in its SDP (the code's input; see safety_code)
_DIGESTS = ("sha-256", "sha-384", "sha-512")


def safety_code(
    local: x509.Certificate, remote: x509.Certificate, nonce: bytes | None = None
) -> str:
    """8 digits from the two certificates of a DTLS handshake, equal on both ends unless
    someone is in between (who then has a handshake, and a certificate, with each end).

    From the certificates the handshake used, never from the SDP: someone relaying the
    signaling could add the far end's fingerprints to it under a hash name that nobody checks.
    ``nonce``: the offerer's (app.net.sas), so that nobody in between can choose certificates
    that make the codes match. Without one the value is what versions before it computed from
    the SDP's fingerprints (when honest)."""
    prints = [certificate_digest(cert, name) for cert in (local, remote) for name in _DIGESTS]
    salt = f"|{nonce.hex()}" if nonce is not None else ""
    digest = hashlib.sha256(("|".join(sorted(prints)) + salt).encode())
    number = int.from_bytes(digest.digest()[:5], "big") % 100_000_000
    return f"{number // 10_000:04d} {number % 10_000:04d}"


def handshake_safety_code(pc: RTCPeerConnection, nonce: bytes | None = None) -> str:
    """``pc``'s safety code once its DTLS handshake is done, else "" (aiortc internals)."""
    dtls: list[Any] = [t.receiver.transport for t in pc.getTransceivers()]
    dtls += [pc.sctp.transport] if pc.sctp is not None else []  # (a connection with data only)
    tls: Any = next((t._ssl for t in dtls if getattr(t, "_ssl", None) is not None), None)
    if tls is None:  # (no handshake yet)
        return ""
    local, remote = tls.get_certificate(), tls.get_peer_certificate(as_cryptography=True)
    if local is None or remote is None:
        return ""
    return safety_code(local.to_cryptography(), remote, nonce)


#: gathering longer than this means a STUN/TURN server kept us waiting (aioice gives up at 5 s)
SLOW_GATHER_S = 3.0


def _usable(servers: tuple[IceServer, ...]) -> tuple[IceServer, ...]:
    """The servers aiortc can use: one it cannot parse would fail the whole connection (a
    settings file from an older version may hold such an entry)."""
    kept = []
    for server in servers:
        try:
            check_url(server.urls)
        except ValueError as exc:
            log.warning("not using a STUN/TURN server: %s", exc)
        else:
            kept.append(server)
    return tuple(kept)


class PeerLink:
    """A connection to one remote peer and the tasks that read from it."""

    def __init__(
        self,
        peer_id: str,
        *,
        offerer: bool,
        ice_servers: tuple[IceServer, ...],
        audio: MediaStreamTrack,
        video: MediaStreamTrack,
        on_state: Callable[[PeerLink, str], None],
        on_track: Callable[[PeerLink, str, MediaStreamTrack], None],
        on_data: Callable[[PeerLink, protocol.Message], None],
        policy: LinkPolicy | None = None,
    ) -> None:
        self.peer_id = peer_id
        self.policy = _effective(policy)
        self.offerer = offerer
        self.name = ""
        self.sas = CodeNonce()  # the offerer's nonce in the safety code (set by the session)
        self._on_state, self._on_track, self._on_data = on_state, on_track, on_data
        ice_servers = self.ice_servers = _usable(ice_servers)
        self.gather_s = 0.0  # how long gathering our candidates took (the last time)
        servers = [
            RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
            for s in ice_servers
        ]  # always explicit: None would mean Google STUN
        transport = RTCIceTransportPolicy.ALL
        if self.policy.relay_only:
            if not any(s.urls.startswith("turn") for s in ice_servers):
                raise PeerMeetError(
                    "Relay-only mode needs a TURN server, and none is set. Give one with --turn "
                    "(and --turn-user/--turn-pass), use a rendezvous that hands out TURN "
                    "credentials, or turn relay-only off."
                )
            transport = RTCIceTransportPolicy.RELAY  # never gathers host/srflx candidates
        self.pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=servers,
                iceTransportPolicy=transport,
                # one transport for all m-lines: fewer ICE checks, and the screen m-line gets
                # a live transport (with "balanced" aiortc strands it on a discarded one)
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            )
        )
        self._sending = (audio, video)  # ours: made for this link (LocalMedia.new_tracks)
        for track in (audio, video):
            transceiver = self.pc.addTransceiver(track, direction="sendrecv")
            codec_prefs.apply(transceiver)
            bind = getattr(track, "bind_sender", None)  # encoded once, for every peer
            if bind is not None:
                bind(transceiver.sender)
        self.screen = self.pc.addTransceiver(IdleVideoTrack(), direction="sendrecv")
        codec_prefs.apply(self.screen)
        self.receive = receive.install(self.pc)  # low-latency jitter buffers
        if not receive.stock():
            fastpath.patch_ice()  # aioice: cheaper media datagrams (idempotent)
        turnclose.patch()  # closing does not wait 31 s for a TURN server gone quiet
        self._channel: RTCDataChannel | None = None
        self._outbox: list[str] = []
        self._bad_data = 0  # data-channel messages that could not be read
        self._closed = False
        self._close_task: asyncio.Task[None] | None = None
        if offerer:
            self._wire_channel(self.pc.createDataChannel("chat"))
        else:
            self.pc.on("datachannel", self._wire_channel)
        self.pc.on("connectionstatechange", self._state_changed)
        self.pc.on("track", self._track_added)

    # --- negotiation -------------------------------------------------------------------------
    async def make_offer(self) -> str:
        return await self._describe(await self.pc.createOffer())

    async def accept_offer(self, sdp: str) -> str:
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=self._clean(sdp), type="offer")
        )
        return await self._describe(await self.pc.createAnswer())

    async def _describe(self, description: RTCSessionDescription) -> str:
        """Set our side, which gathers every candidate first (aioice waits up to 5 s for a
        STUN/TURN server that does not answer)."""
        started = asyncio.get_running_loop().time()
        sctpguard.guard(self.pc.sctp, self.peer_id)  # (made by now: before any data can come)
        await self.pc.setLocalDescription(description)
        self.gather_s = asyncio.get_running_loop().time() - started
        return str(self.pc.localDescription.sdp)

    def silent_helpers(self) -> list[str]:
        """The STUN/TURN servers that gave us no candidate while gathering made us wait (one
        that answers at once but gives nothing new, e.g. without NAT, does not count)."""
        sdp = self.pc.localDescription.sdp if self.pc.localDescription else ""
        if self.gather_s < SLOW_GATHER_S:
            return []
        missing = {"stun": " typ srflx" not in sdp, "turn": " typ relay" not in sdp}
        return [s.urls for s in self.ice_servers if missing[s.urls[:4]]]

    def relay_missing(self) -> bool:
        """Relay-only, but our TURN servers gave us no relay address: nobody can reach us."""
        sdp = self.pc.localDescription.sdp if self.pc.localDescription else ""
        return self.policy.relay_only and " typ relay" not in sdp

    async def accept_answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=self._clean(sdp), type="answer")
        )

    def _clean(self, sdp: str) -> str:
        """Remote SDP minus candidates we must never send to (app.net.candidates)."""
        cleaned, dropped = self.policy.candidates.filter_sdp(sdp)
        for note in dropped:
            log.warning("refused remote ICE candidate from %s: %s", self.peer_id, note)
        return cleaned

    # --- data channel ------------------------------------------------------------------------
    def _wire_channel(self, channel: RTCDataChannel) -> None:
        self._channel = channel
        channel.on("open", self._flush)
        channel.on("message", self._data_received)
        if channel.readyState == "open":
            self._flush()

    def _flush(self) -> None:
        while self._outbox and self._channel is not None and self._channel.readyState == "open":
            self._channel.send(self._outbox.pop(0))

    def send(self, msg: protocol.Message) -> None:
        """Send over the data channel; queued (bounded) until it opens."""
        if self._closed:
            return
        self._outbox = [*self._outbox[-63:], msg.encode()]
        self._flush()

    def _data_received(self, data: str | bytes) -> None:
        try:
            msg = protocol.decode("data", data)
        except ProtocolError as exc:
            self._bad_data += 1  # (logged sparingly: a broken peer may send nothing else)
            if worth_saying(self._bad_data):
                log.warning(
                    "dropped bad data-channel message from %s (%d so far): %s",
                    self.peer_id,
                    self._bad_data,
                    exc,
                )
            return
        self._on_data(self, msg)

    # --- events ------------------------------------------------------------------------------
    def _state_changed(self) -> None:
        if self.pc.connectionState == "connected" and not receive.stock():
            fastpath.install(self.pc)  # media packets straight to their receiver
        self._on_state(self, str(self.pc.connectionState))

    def _track_added(self, track: MediaStreamTrack) -> None:
        for index, transceiver in enumerate(self.pc.getTransceivers()[: len(KINDS)]):
            if transceiver.receiver.track is track:
                self._on_track(self, KINDS[index], track)
                return

    # --- inspection --------------------------------------------------------------------------
    @property
    def safety_code(self) -> str:
        """Empty until known: before the handshake, and for an answerer until the offerer's
        nonce is revealed (app.net.sas)."""
        return "" if self.sas.pending else handshake_safety_code(self.pc, self.sas.nonce)

    def _pair(self) -> Any:
        """The nominated ICE candidate pair (aioice internals; best effort) or None."""
        try:
            ice = self.pc.getTransceivers()[0].receiver.transport.transport
            return ice._connection._nominated.get(1)
        except (AttributeError, IndexError):
            return None

    def path(self) -> str:
        """host (LAN/loopback), direct (public addresses on different networks, no NAT: IPv6
        mostly), srflx (direct through NAT) or relay (TURN), from the chosen pair."""
        pair = self._pair()
        if pair is None:
            return "unknown"
        types = {pair.local_candidate.type, pair.remote_candidate.type}
        if "relay" in types:
            return "relay"
        if types & {"srflx", "prflx"}:
            return "srflx"
        local, remote = pair.local_candidate.host, pair.remote_candidate.host
        try:  # two host candidates: the LAN, unless the far one is public and on another network
            public = ipaddress.ip_address(remote).is_global
        except ValueError:
            public = False
        return "direct" if public and not same_network(local, remote) else "host"

    def remote_address(self) -> str:
        pair = self._pair()
        if pair is None:
            return ""
        return host_port(pair.remote_candidate.host, pair.remote_candidate.port)

    async def stats(self) -> dict[str, float]:
        """RTT (ms), packets lost and bytes in/out, summed over the media streams."""
        out = {"rtt_ms": 0.0, "packets_lost": 0.0, "bytes_in": 0.0, "bytes_out": 0.0}
        for st in (await self.pc.getStats()).values():
            if st.type == "remote-inbound-rtp" and st.roundTripTime:
                out["rtt_ms"] = max(out["rtt_ms"], st.roundTripTime * 1000)
            elif st.type == "inbound-rtp":
                out["packets_lost"] += st.packetsLost or 0
            elif st.type == "transport":  # aiortc's inbound-rtp has no byte counts
                out["bytes_in"] += st.bytesReceived or 0
                out["bytes_out"] += st.bytesSent or 0
        return out

    async def close(self) -> None:
        """Idempotent, and safe to cancel: the shutdown itself runs to the end in its own task
        (a half-closed RTCPeerConnection leaves non-daemon decoder threads that block exit)."""
        if self._close_task is None:
            self._closed = True
            self._outbox.clear()
            self._close_task = asyncio.get_running_loop().create_task(self._shutdown())
        await asyncio.shield(self._close_task)

    async def _shutdown(self) -> None:
        await self.receive.aclose()
        await self.pc.close()
        for track in self._sending:  # aiortc stops a track only if its sender ever started
            track.stop()
