"""Which addresses this machine can be reached at (for the share link and LAN discovery)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

import ifaddr


def lan_addresses(include_ipv6: bool = False) -> list[str]:
    """Usable non-loopback unicast addresses, IPv4 first, private ranges before others."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                addr: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(ip.ip)
            elif include_ipv6 and ip.ip[2] == 0:  # global scope only; no link-local zone ids
                addr = ipaddress.IPv6Address(ip.ip[0])
            else:
                continue
            if addr.is_loopback or addr.is_link_local or addr.is_multicast:
                continue
            found.append(addr)
    found.sort(key=lambda a: (a.version, not a.is_private))
    return [str(a) for a in found]


def host_port(host: str, port: int) -> str:
    """``host:port`` as people read and type it: an IPv6 address in brackets (``[::]:8765``,
    ``[2001:db8::1]:443``), where ``:::8765`` leaves them to guess which colon is the port's."""
    return f"{bracketed(host)}:{port}"


def bracketed(host: str) -> str:
    """``host``, in brackets if it is an IPv6 address (as it goes before ``:port`` or in a URL)."""
    return f"[{host}]" if ":" in host else host


def free_dual_stack_port() -> int:
    """A TCP port free for IPv4 and IPv6 alike (a server on both binds one socket each, and
    they must share the port: given 0, each would get a port of its own)."""
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::", 0))
        return int(sock.getsockname()[1])


def listen_on(host: str, port: int) -> tuple[str, int]:
    """Where a server given ``host``:``port`` listens. "::" (as --host/--bind say: every
    interface) is every IPv4 and IPv6 one: a socket of each kind, on one port ("" to asyncio;
    one "::" socket would be IPv6 only, IPV6_V6ONLY, and refuse every IPv4 client)."""
    if host != "::":
        return host, port
    try:
        return "", port or free_dual_stack_port()
    except OSError:  # (no IPv6 on this computer: IPv4 is all there is)
        return "0.0.0.0", port


def advertised_host(bind: str) -> str:
    """The host to put in a share link for a server bound to ``bind``."""
    if bind in ("0.0.0.0", "::", ""):
        addresses = lan_addresses()
        return addresses[0] if addresses else "127.0.0.1"
    return bind


def same_network(local: str, remote: str) -> bool:
    """Whether ``remote`` is in the network (address and prefix) of ``local``, an address of
    this machine: the same LAN, public addresses or not (IPv6 at home: every one is public)."""
    try:
        mine, far = ipaddress.ip_address(local), ipaddress.ip_address(remote)
    except ValueError:
        return False
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            address = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            if ipaddress.ip_address(address) == mine:
                return far in ipaddress.ip_network(f"{address}/{ip.network_prefix}", strict=False)
    return False


def same_computer(remote: str, local: str) -> bool:
    """True if a connection from ``remote`` to our ``local`` address comes from this computer:
    over loopback, or to one of our own addresses from that same address (an IPv4 address
    seen as IPv6, ``::ffff:a.b.c.d``, counts as itself)."""
    try:
        a, b = ipaddress.ip_address(remote.split("%")[0]), ipaddress.ip_address(local.split("%")[0])
    except ValueError:
        return False
    a = getattr(a, "ipv4_mapped", None) or a
    b = getattr(b, "ipv4_mapped", None) or b
    return a.is_loopback or a == b


_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host": 0.1.2.3 reaches 127.0.0.1 too


def usable(addresses: Sequence[str], loopback: bool = False) -> tuple[str, ...]:
    """Addresses worth dialing: unicast, no link-local (zone ids do not fit in URLs), no
    loopback unless ``loopback``, IPv4 first."""
    found = []
    for text in addresses:
        try:
            addr = ipaddress.ip_address(text)
        except ValueError:
            continue
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped  # (::ffff:127.0.0.1 is not is_loopback, but reaches it)
        if (addr.is_loopback or addr in _THIS_NETWORK) and not loopback:
            continue
        if not (addr.is_multicast or addr.is_unspecified or addr.is_link_local or addr.is_reserved):
            found.append(addr)
    found.sort(key=lambda a: a.version)
    return tuple(str(a) for a in found[:8])
