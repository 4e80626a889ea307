"""What a screen reader hears of other people's connections in a call (app.ui.call_peers).

"Reconnecting…" and "connection failed" show on a person's tile and in the People panel, and
were said to nobody. Now: a connection that stays broken for a moment is said, politely, once
(a blip that mends itself at once is not), several people at a time in one sentence (our own
network going makes everyone reconnect); a failure is said at once; and the recovery of what
was said, unless the call's own notice ("Olga reconnected", said with the banner) says it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from app.meeting.roster import RECONNECTED
from app.ui import style
from app.ui.video_tile import FAILED, RECONNECTING

SAY_AFTER_MS = 2500  # a connection broken this long is said (a shorter blip is not)
BACK_AFTER_MS = 400  # the call's own "… reconnected" notice comes within this


def names(people: list[str]) -> str:
    """ "Olga", "Olga and Bo", "Olga, Bo and Chidi", "5 people"."""
    if len(people) > 3:
        return f"{len(people)} people"
    return people[0] if len(people) == 1 else f"{', '.join(people[:-1])} and {people[-1]}"


class PeerNews(QObject):
    def __init__(self, where: QWidget) -> None:
        """``where``: the widget the announcements come from (one that stays in the call)."""
        super().__init__(where)
        self._where = where
        self._broken: dict[str, str] = {}  # peer id: name, reconnecting (not said yet)
        self._said: dict[str, str] = {}  # peer id: what was said of it (reconnecting, failed)
        self._back: dict[str, str] = {}  # peer id: name, back, to be said
        self._told_back: set[str] = set()  # names the call's own notice said are back
        self._soon = self._timer(SAY_AFTER_MS, self._say_broken)
        self._later = self._timer(BACK_AFTER_MS, self._say_back)

    def _timer(self, ms: int, then: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(ms)
        timer.timeout.connect(then)
        return timer

    def state(self, peer_id: str, name: str, shown: str) -> None:
        """``peer_id`` (``name``) now shows ``shown``: "" or a tile's badge (CONNECTING,
        RECONNECTING, FAILED)."""
        if shown == RECONNECTING:
            if peer_id not in self._said and peer_id not in self._broken:
                self._broken[peer_id] = name
                if not self._soon.isActive():
                    self._soon.start()
        elif shown == FAILED:
            self._broken.pop(peer_id, None)
            if self._said.get(peer_id) != "failed":
                self._said[peer_id] = "failed"
                style.announce(self._where, f"The connection to {name} failed.")
        elif shown == "":
            self._broken.pop(peer_id, None)  # (a blip: never said)
            if self._said.pop(peer_id, None) is not None:
                self._back[peer_id] = name
                self._later.start()

    def notice(self, text: str) -> None:
        """The call's own notices: "Olga reconnected" says Olga is back."""
        if text.endswith(RECONNECTED) and (self._said or self._back):
            self._told_back.add(text.removesuffix(RECONNECTED))

    def gone(self, peer_id: str | None = None) -> None:
        """``peer_id`` left (that is said on its own); None: everyone (the call is over)."""
        for pending in (self._broken, self._said, self._back):
            if peer_id is None:
                pending.clear()
            else:
                pending.pop(peer_id, None)

    def _say_broken(self) -> None:
        people = list(self._broken.values())
        self._said.update(dict.fromkeys(self._broken, "reconnecting"))
        self._broken.clear()
        if people:
            style.announce(self._where, f"Lost the connection to {names(people)}: reconnecting …")

    def _say_back(self) -> None:
        people = [name for name in self._back.values() if name not in self._told_back]
        self._back.clear()
        self._told_back.clear()
        if people:
            style.announce(self._where, f"{names(people)}: connected again.")
