"""A throw-away network lab built from Linux network namespaces (root only).

    a 10.77.1.10 ─ lan0 [ra: NAT] wan0 10.77.0.11 ┐  br0 10.77.0.1: drops all else
                                                   ├ br0 in "wan" (a plain bridge)
    b 10.77.2.10 ─ lan0 [rb: NAT] wan0 10.77.0.12 ┤
                          srv eth0 10.77.0.100 ────┘  rendezvous :8765, coturn :3478

Namespaces are named ``pmt-lab<pid>-<random>-<role>``; nothing links them to the root namespace,
so no lab packet can leave the machine. Every rule, qdisc and process lives inside them, and
``close()`` (idempotent, also run by ``with``) stops the processes and deletes the namespaces.
Leftovers of a crashed run (its pid is gone) are swept when the next lab starts.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

PREFIX = "pmt-lab"  # pmt-lab<pid>-<hex>-<role>; other pmt-* namespaces are not ours
_OURS = re.compile(r"^pmt-lab(\d+)-[0-9a-f]{6}-[a-z]+$")
SRV_IP = "10.77.0.100"
WAN_GW = "10.77.0.1"
RENDEZVOUS_PORT, TURN_PORT = 8765, 3478
ROLES = ("wan", "srv", "ra", "rb", "a", "b")
_ROUTER = {"a": ("ra", "10.77.0.11", "10.77.1"), "b": ("rb", "10.77.0.12", "10.77.2")}
REPO = Path(__file__).resolve().parents[2]
TOOLS = ("ip", "tc", "iptables", "turnserver", "ss")


def skip_reason() -> str | None:
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "network lab tests need root (network namespaces, iptables); CI runs them as root"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"network lab needs {', '.join(missing)} (tools/bootstrap.sh installs them)"
    return None


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _delete_namespace(name: str) -> None:
    pids = _run("ip", "netns", "pids", name, check=False).stdout.split()
    for pid in pids:  # anything still running in a namespace we made is ours
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    _run("ip", "netns", "del", name, check=False)


def sweep_stale() -> None:
    """Delete lab namespaces whose creating process is gone (a crashed or killed run)."""
    for line in _run("ip", "netns", "list", check=False).stdout.splitlines():
        match = _OURS.match(line.split()[0] if line.split() else "")
        if match is not None and not _alive(int(match[1])):
            _delete_namespace(match[0])


class Lab:
    def __init__(self, workdir: Path, *, nat_a: str = "cone", nat_b: str = "cone") -> None:
        self.workdir = workdir
        self.tag = f"{os.getpid()}-{secrets.token_hex(3)}"
        self.ns = {role: f"{PREFIX}{self.tag}-{role}" for role in ROLES}
        self._made: list[str] = []
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._nat = {"a": nat_a, "b": nat_b}
        self._closed = False

    def __enter__(self) -> Lab:
        try:
            self.up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- building --------------------------------------------------------------------------
    def x(self, role: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command inside a lab namespace."""
        return _run("ip", "netns", "exec", self.ns[role], *cmd, check=check)

    def _veth(self, role1: str, if1: str, role2: str, if2: str) -> None:
        _run("ip", "link", "add", if1, "netns", self.ns[role1], "type", "veth",
             "peer", "name", if2, "netns", self.ns[role2])  # fmt: skip

    def _addr(self, role: str, dev: str, cidr: str) -> None:
        _run("ip", "-n", self.ns[role], "addr", "add", cidr, "dev", dev)
        _run("ip", "-n", self.ns[role], "link", "set", dev, "up")

    def up(self) -> None:
        sweep_stale()
        for role in ROLES:
            _run("ip", "netns", "add", self.ns[role])
            self._made.append(self.ns[role])
            _run("ip", "-n", self.ns[role], "link", "set", "lo", "up")
        wan = self.ns["wan"]
        _run("ip", "-n", wan, "link", "add", "br0", "type", "bridge")
        self._addr("wan", "br0", f"{WAN_GW}/24")
        # "The internet": every address beyond the lab is silently dropped here. Without a
        # default route, sending to a peer's private address fails with ENETUNREACH, and coturn
        # closes the whole allocation on that error (the real internet just loses the packet).
        self.x("wan", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        _run("ip", "-n", wan, "route", "add", "blackhole", "default")
        self._veth("srv", "eth0", "wan", "psrv")
        _run("ip", "-n", wan, "link", "set", "psrv", "master", "br0", "up")
        self._addr("srv", "eth0", f"{SRV_IP}/24")
        _run("ip", "-n", self.ns["srv"], "route", "add", "default", "via", WAN_GW)
        for side, (rtr, wan_ip, lan) in _ROUTER.items():
            self._veth(rtr, "wan0", "wan", f"p{rtr}")
            _run("ip", "-n", wan, "link", "set", f"p{rtr}", "master", "br0", "up")
            self._addr(rtr, "wan0", f"{wan_ip}/24")
            _run("ip", "-n", self.ns[rtr], "route", "add", "default", "via", WAN_GW)
            self._veth(rtr, "lan0", side, "eth0")
            self._addr(rtr, "lan0", f"{lan}.1/24")
            self._addr(side, "eth0", f"{lan}.10/24")
            _run("ip", "-n", self.ns[side], "route", "add", "default", "via", f"{lan}.1")
            self.x(rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
            self.nat(side, self._nat[side])

    def nat(self, side: str, mode: str) -> None:
        """cone (MASQUERADE keeps ports), symmetric (--random-fully) or blockudp (cone, no UDP
        out). Like a home router, only replies come in from the WAN; unsolicited packets are
        dropped silently (an ICMP answer would confirm a conntrack entry that later collides
        with the router's own mapping and turns hole punching into symmetric behaviour)."""
        rtr = _ROUTER[side][0]
        ipt = ("iptables", "-w")
        self.x(rtr, *ipt, "-t", "nat", "-F", "POSTROUTING")
        self.x(rtr, *ipt, "-F", "FORWARD")
        self.x(rtr, *ipt, "-F", "INPUT")
        masq = [*ipt, "-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"]
        self.x(rtr, *masq, *(["--random-fully"] if mode == "symmetric" else []))
        if mode == "blockudp":
            self.x(
                rtr, *ipt, "-A", "FORWARD", "-i", "lan0", "-o", "wan0", "-p", "udp", "-j", "DROP"
            )
        elif mode not in ("cone", "symmetric"):
            raise ValueError(f"unknown NAT mode {mode!r}")
        for chain in ("INPUT", "FORWARD"):
            established = ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"]
            self.x(rtr, *ipt, "-A", chain, "-i", "wan0", *established)
            self.x(rtr, *ipt, "-A", chain, "-i", "wan0", "-j", "DROP")

    def wan_mtu(self, mtu: int) -> None:
        """The smallest MTU on the path: the routers' WAN side, the bridge and the server."""
        for role, dev in (("ra", "wan0"), ("rb", "wan0"), ("srv", "eth0")):
            _run("ip", "-n", self.ns[role], "link", "set", dev, "mtu", str(mtu))
        for port in ("pra", "prb", "psrv"):
            _run("ip", "-n", self.ns["wan"], "link", "set", port, "mtu", str(mtu))

    def outage(self, side: str, down: bool) -> None:
        """Drop everything the router forwards (both ways) or stop doing so."""
        rtr = _ROUTER[side][0]
        self.x(rtr, "iptables", "-w", "-I" if down else "-D", "FORWARD", "-j", "DROP")

    def renumber(self, side: str, wan_ip: str) -> None:
        """The router gets a new address on the WAN, as after a network change seen from the
        internet: each of its NAT mappings goes with the old one (MASQUERADE drops them)."""
        rtr, old, _ = _ROUTER[side]
        self.x(rtr, "sysctl", "-qw", "net.ipv4.conf.wan0.promote_secondaries=1")  # (kept)
        self.x(rtr, "ip", "addr", "add", f"{wan_ip}/24", "dev", "wan0")
        self.x(rtr, "ip", "addr", "del", f"{old}/24", "dev", "wan0")
        self.x(rtr, "ip", "route", "replace", "default", "via", WAN_GW)

    def impair(
        self, side: str, *, rate_kbit: int = 0, loss_pct: float = 0.0, delay_ms: int = 0
    ) -> None:
        """Egress of the router's WAN side: tbf rate cap, NFQUEUE delay and random loss."""
        rtr = _ROUTER[side][0]
        if rate_kbit:
            self.x(rtr, "tc", "qdisc", "replace", "dev", "wan0", "root", "tbf",
                   "rate", f"{rate_kbit}kbit", "burst", "16kb", "latency", "400ms")  # fmt: skip
        if loss_pct or delay_ms:
            self.x(rtr, "iptables", "-w", "-t", "mangle", "-A", "POSTROUTING", "-o", "wan0",
                   "-j", "NFQUEUE", "--queue-num", "0", "--queue-bypass")  # fmt: skip
            cmd = [sys.executable, str(Path(__file__).with_name("nfq.py")), "--queue", "0",
                   "--delay-ms", str(delay_ms), "--loss", str(loss_pct), "--seed", "7"]  # fmt: skip
            self.wait_output(self.spawn(rtr, cmd, f"nfq-{rtr}"), "nfq ready", 10)

    # --- processes ---------------------------------------------------------------------------
    def spawn(self, role: str, cmd: list[str], name: str, env: dict[str, str] | None = None) -> str:
        """Start ``cmd`` in a namespace, output to ``workdir/NAME.out|err``; returns NAME."""
        out = (self.workdir / f"{name}.out").open("wb")
        err = (self.workdir / f"{name}.err").open("wb")
        with out, err:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns[role], *cmd],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=REPO,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self._procs.append((name, proc))
        return name

    def proc(self, name: str) -> subprocess.Popen[bytes]:
        return next(p for n, p in self._procs if n == name)

    def output(self, name: str, stream: str = "out") -> str:
        return (self.workdir / f"{name}.{stream}").read_text(errors="replace")

    def wait_output(self, name: str, needle: str, timeout: float, stream: str = "out") -> str:
        """Wait until NAME's stdout (or ``stream``) contains ``needle``; return that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.output(name, stream).splitlines():
                if needle in line:
                    return line.strip()
            if self.proc(name).poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{name} did not print {needle!r}; stderr:\n{self.output(name, 'err')}")

    def stop(self, name: str, timeout: float = 10.0) -> int:
        """SIGTERM (clean leave), then SIGKILL after ``timeout``; returns the exit status."""
        proc = self.proc(name)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        return proc.returncode

    def close(self) -> None:
        """Stop every process, delete every namespace (and so every rule in it). Idempotent."""
        if self._closed:
            return
        self._closed = True
        for name, proc in reversed(self._procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                    self.stop(name, timeout=3.0)
        for name in reversed(self._made):
            _delete_namespace(name)
