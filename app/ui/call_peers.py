"""What the call window shows of each remote peer, kept in step with the Bridge's peer events:
its video tile (and screen tile) in the grid with a state badge ("connecting…",
"reconnecting…", "connection failed"), its row in the people panel, and "joined"/"left"
notices in the chat. ``changed()`` is called whenever the head count may have changed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer

from app.ui.bridge import Bridge
from app.ui.chat_panel import ChatPanel
from app.ui.peer_news import PeerNews
from app.ui.peer_panel import PeerPanel
from app.ui.video_grid import VideoGrid
from app.ui.video_tile import CONNECTING, FAILED, RECONNECTING
from app.ui.waiting_card import WaitingCard

UNNAMED = "Someone"  # a peer whose name has not arrived yet
ENDINGS = ("ended", "expired")  # a peer "leaves" for these when the whole meeting ends
#: a peer leaving for one of ENDINGS is said to have left after this long, unless our own call
#: ended for one of them meanwhile (the window says the meeting's end, once; the others'
#: goodbyes often come just before the rendezvous tells us). Said all the same: someone whose
#: app alone saw an end (it missed an extension while out of touch), or a hostile or other app
ENDING_WAIT_MS = 3000
SCREEN_GRACE_MS = 600  # a screen tile outlives "screen off" this long (it may come straight back)
QUIET_FROM = 8  # people in a call from which comings and goings make no sound (a busy one)


class PeerViews:
    def __init__(
        self,
        bridge: Bridge,
        grid: VideoGrid,
        people: PeerPanel,
        chat: ChatPanel,
        changed: Callable[[], None],
    ) -> None:
        self.bridge, self.grid, self.people, self.chat = bridge, grid, people, chat
        self._changed = changed
        self._was_connected: set[str] = set()
        self._announced: set[str] = set()  # peers whose arrival the chat has mentioned
        self._labels: dict[str, tuple[str, str]] = {}  # peer id: (name, name as shown)
        self.ending_wait_ms = ENDING_WAIT_MS
        self._ending: dict[str, str] = {}  # peer id: its "left" notice, for ending_wait_ms
        self.over = False  # the call ended: nobody is awaited any more
        link = str(bridge.link) if bridge.link is not None else ""
        self.waiting = WaitingCard(grid, lambda: bridge.in_call and not self.over, link)
        bridge.reconnecting.connect(self.waiting.lost)  # (gone with the card)
        self.news = PeerNews(grid)  # others' connection troubles, said to a screen reader
        bridge.notice.connect(self.news.notice)

    def name(self, peer_id: str) -> str:
        info = self.bridge.peers().get(peer_id)
        return self.label(peer_id, info.name if info and info.name else UNNAMED)

    def label(self, peer_id: str, name: str) -> str:
        """``name`` as shown for this peer: a name someone else in the call has too gets a
        number ("Olga (2)"), kept while this peer stays."""
        if not name or name == UNNAMED:
            return UNNAMED
        known, shown = self._labels.get(peer_id, ("", ""))
        if known == name:
            return shown
        taken = {s for p, (_, s) in self._labels.items() if p != peer_id}
        taken.add(self.bridge.display_name)
        shown, number = name, 1
        while shown in taken:
            number += 1
            shown = f"{name} ({number})"
        self._labels[peer_id] = (name, shown)
        return shown

    def joined(self, peer_id: str, name: str) -> None:
        name = self.label(peer_id, name) if name else self.name(peer_id)
        known = self.grid.tile(peer_id) is not None
        tile = self.grid.add((peer_id, "video"), name, lambda: self.bridge.remote_frame(peer_id))
        tile.set_name(name)
        if not known:
            tile.set_state(CONNECTING)
        if name != UNNAMED and peer_id not in self._announced:
            self._announced.add(peer_id)
            self.chat.add_notice(f"{name} joined")
            peers = self.bridge.peers()
            info = peers.get(peer_id)
            if info is not None and info.since is not None and len(peers) + 1 < QUIET_FROM:
                self.bridge.cue("joined")  # (came after us: not for those there as we came)
        self.people.add_peer(peer_id, name)
        self._changed()

    def left(self, peer_id: str, name: str, reason: str) -> None:
        self.grid.remove((peer_id, "video"))
        self.grid.remove((peer_id, "screen"))
        self.people.remove_peer(peer_id)
        self.news.gone(peer_id)
        self._was_connected.discard(peer_id)
        self._announced.discard(peer_id)
        known = self._labels.pop(peer_id, None)
        why = "" if reason in ("left", "") else f" ({reason})"
        text = f"{known[1] if known else name or UNNAMED} left{why}"
        if reason not in ENDINGS:
            self._say_left(text)
        elif not self.over:  # (after the end: the end was said)
            self._ending[peer_id] = text
            QTimer.singleShot(self.ending_wait_ms, self.grid, lambda: self._ended_alone(peer_id))
        self._changed()

    def _ended_alone(self, peer_id: str) -> None:
        if (text := self._ending.pop(peer_id, None)) is not None:  # (our call went on)
            self._say_left(text)

    def _say_left(self, text: str, cue: bool = True) -> None:
        self.chat.add_notice(text)
        if cue and len(self.bridge.peers()) + 2 < QUIET_FROM:  # (with the one who left, and me)
            self.bridge.cue("left")

    def clear(self, reason: str = "") -> None:
        """The call is over (for ``reason``): nobody is shown any more, in the grid or the
        people panel (the session closes its links without a word for each, and the end is said
        once, by the window). Those who left for one of ENDINGS just before are said to have
        left unless the call ended for one of them too."""
        self.over = True
        ending, self._ending = self._ending, {}
        for text in ending.values() if reason not in ENDINGS else ():
            self._say_left(text, cue=False)
        for key in list(self.grid.tiles):
            self.grid.remove(key)
        for peer_id in list(self.people.cards):
            self.people.remove_peer(peer_id)
        self.news.gone()
        self._was_connected.clear()
        self._announced.clear()
        self._labels.clear()
        self._changed()

    def connected(self, peer_id: str, name: str, path: str, code: str, ms: float) -> None:
        self.state(peer_id, "connected")
        self.people.set_connected(peer_id, path, code)

    def state(self, peer_id: str, state: str) -> None:
        if self.grid.tile(peer_id) is None:
            self.joined(peer_id, self.name(peer_id))
        tile = self.grid.tile(peer_id)
        assert tile is not None
        if state == "connected":
            self._was_connected.add(peer_id)
            tile.set_state("")
        elif state in ("reconnecting", "new", "connecting"):  # (a first try again: connecting)
            was = peer_id in self._was_connected
            tile.set_state(RECONNECTING if was else CONNECTING)
        elif state == "failed":
            tile.set_state(FAILED)
        self.news.state(peer_id, tile.name, tile.state)
        self.people.set_state(peer_id, state)

    def media(self, peer_id: str, mic: bool, cam: bool, screen: bool) -> None:
        tile = self.grid.tile(peer_id)
        if tile is not None:
            tile.set_media(mic, cam)
        self.people.set_media(peer_id, mic, cam, screen)
        if screen:
            name = tile.name if tile else self.name(peer_id)
            self.grid.add(
                (peer_id, "screen"), name, lambda: self.bridge.remote_frame(peer_id, "screen")
            )
        elif self.grid.tile(peer_id, "screen") is not None:
            QTimer.singleShot(SCREEN_GRACE_MS, self.grid, lambda: self._drop_screen(peer_id))

    def _drop_screen(self, peer_id: str) -> None:
        info = self.bridge.peers().get(peer_id)
        if info is None or not info.screen:
            self.grid.remove((peer_id, "screen"))
