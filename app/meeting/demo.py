"""``peermeet demo`` / ``make run`` without a display: a host and two synthetic guests in one
process over loopback, then a plain report of what happened."""

from __future__ import annotations

import asyncio
import io

from app.config import EngineConfig
from app.meeting.headless import MediaOptions, Reporter, build_media, close_media
from app.meeting.host import DEFAULT_LIFETIME_S, HostedRoom
from app.meeting.session import Session
from app.net.peers import PATH_LABELS, set_loopback_only

HOW_TO = """\
Start a real meeting:
  .venv/bin/peermeet host --headless --name team-sync          # prints the share link
  .venv/bin/peermeet join 'peermeet://HOST:PORT/team-sync#k=…' --headless --seconds 30
or open the desktop app on a machine with a display:  make run
"""


async def run_demo(seconds: float = 10.0) -> int:
    set_loopback_only(True)
    room = HostedRoom("demo-meeting", bind="127.0.0.1")
    link = await room.start()
    print(f"Demo meeting link: {link}\n")
    people = ("Host", "Alice", "Bob")
    sessions: list[Session] = []
    reporters: list[Reporter] = []
    try:
        for index, name in enumerate(people):
            media = build_media(
                MediaOptions(True, 320, 240, 15, label=name, tone_hz=330 + 110 * index)
            )
            session = Session(EngineConfig(display_name=name, loopback_only=True), media)
            reporters.append(
                Reporter(session, out=io.StringIO(), chat_on_connect=[f"hi, {name} here"])
            )
            sessions.append(session)
            if index == 0:
                await session.create(link, "small", DEFAULT_LIFETIME_S)
            else:
                await session.join(link)
            print(f"{name} joined as peer {session.my_id}")
        print(f"\nTalking for {seconds:.0f} s …\n")
        await asyncio.sleep(seconds)
        for name, reporter in zip(people, reporters, strict=True):
            print(f"{name} ({reporter.session.my_id}) received:")
            for row in reporter.stats()["peers"].values():
                fps = row["video_frames"] / seconds
                print(
                    f"  from {row['name']:<6} path={PATH_LABELS.get(row['path'], '?'):<6} "
                    f"connect={row['connect_ms'] or 0:>5.0f} ms  "
                    f"video={row['video_frames']:>4} frames "
                    f"(~{fps:.0f} fps)  audio={row['audio_frames']:>4} frames  "
                    f"safety code {row.get('safety_code', '?')}"
                )
            for chat in reporter.chats:
                print(f"  chat from {chat['name']}: {chat['text']}")
        print()
        print(HOW_TO)
        return 0
    finally:
        for session in reversed(sessions):
            await session.leave()
            await close_media(session.media)
        await room.close()
