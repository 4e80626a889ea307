"""Delay and random loss for packets iptables hands to NFQUEUE (stdlib only; run as a script).

This kernel has no ``sch_netem``, so ``tc qdisc ... netem`` is unavailable. Instead the lab
sends one interface's packets to an NFQUEUE (``-j NFQUEUE --queue-num N --queue-bypass``) and
this process, inside the same network namespace, answers each packet late (delay) or with
DROP (loss). Packets keep their order. The rate cap stays in the kernel (``tc ... tbf``).

    python nfq.py --queue 0 --delay-ms 100 --loss 5 [--seed 1]

Stops on SIGTERM, releasing every held packet first. Nothing but verdicts is sent.
"""

from __future__ import annotations

import argparse
import collections
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER, NFNL_SUBSYS_QUEUE = 12, 3
MSG_PACKET, MSG_VERDICT, MSG_CONFIG = 0, 1, 2
F_REQUEST, F_ACK, NLMSG_ERROR = 0x1, 0x4, 0x2
CFG_CMD, CFG_PARAMS, CFG_QUEUE_MAXLEN = 1, 2, 3
CMD_BIND, COPY_META = 1, 1
ATTR_PACKET_HDR, ATTR_VERDICT_HDR = 1, 2
DROP, ACCEPT = 0, 1


def _attr(kind: int, payload: bytes) -> bytes:
    size = 4 + len(payload)
    return struct.pack("=HH", size, kind) + payload + b"\0" * (-size % 4)


def _message(kind: int, queue: int, attrs: bytes, flags: int = F_REQUEST) -> bytes:
    body = struct.pack("=BB", socket.AF_INET, 0) + struct.pack(">H", queue) + attrs
    header = struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | kind, flags, 0, 0)
    return header + body


class Queue:
    def __init__(self, number: int) -> None:
        self.number = number
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((0, 0))
        self._configure(_attr(CFG_CMD, struct.pack(">BBH", CMD_BIND, 0, socket.AF_INET)))
        self._configure(_attr(CFG_PARAMS, struct.pack(">IB", 0, COPY_META)))
        self._configure(_attr(CFG_QUEUE_MAXLEN, struct.pack(">I", 20000)))

    def _configure(self, attr: bytes) -> None:
        self.sock.send(_message(MSG_CONFIG, self.number, attr, F_REQUEST | F_ACK))
        reply = self.sock.recv(65536)
        if struct.unpack_from("=H", reply, 4)[0] == NLMSG_ERROR:
            error = struct.unpack_from("=i", reply, 16)[0]
            if error:
                raise OSError(-error, "NFQUEUE configuration refused")

    def packet_ids(self) -> list[int]:
        try:
            data = self.sock.recv(1 << 20)
        except OSError:  # ENOBUFS: the kernel dropped some; they are gone already
            return []
        ids, offset = [], 0
        while offset + 16 <= len(data):
            length, kind = struct.unpack_from("=IH", data, offset)
            if length < 16:
                break
            if kind == (NFNL_SUBSYS_QUEUE << 8) | MSG_PACKET:
                at, end = offset + 20, offset + length
                while at + 4 <= end:
                    size, attr = struct.unpack_from("=HH", data, at)
                    if size < 4:
                        break
                    if attr & 0x3FFF == ATTR_PACKET_HDR:
                        ids.append(struct.unpack_from(">I", data, at + 4)[0])
                    at += (size + 3) & ~3
            offset += (length + 3) & ~3
        return ids

    def verdict(self, packet_id: int, verdict: int) -> None:
        attr = _attr(ATTR_VERDICT_HDR, struct.pack(">II", verdict, packet_id))
        try:
            self.sock.send(_message(MSG_VERDICT, self.number, attr))
        except OSError as exc:
            print(f"nfq: verdict failed: {exc}", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queue", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--loss", type=float, default=0.0, help="percent, independent per packet")
    ap.add_argument("--seed", type=int)
    args = ap.parse_args()
    rng, queue = random.Random(args.seed), Queue(args.queue)
    held: collections.deque[tuple[float, int]] = collections.deque()  # FIFO: same delay for all
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    print("nfq ready", flush=True)
    while running[0]:
        wait = 0.2 if not held else max(0.0, held[0][0] - time.monotonic())
        ready, _, _ = select.select([queue.sock], [], [], min(wait, 0.2))
        now = time.monotonic()
        for packet_id in queue.packet_ids() if ready else []:
            if rng.random() * 100 < args.loss:
                queue.verdict(packet_id, DROP)
            elif args.delay_ms <= 0:
                queue.verdict(packet_id, ACCEPT)
            else:
                held.append((now + args.delay_ms / 1000, packet_id))
        while held and held[0][0] <= time.monotonic():
            queue.verdict(held.popleft()[1], ACCEPT)
    while held:
        queue.verdict(held.popleft()[1], ACCEPT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
