"""``peermeet-rendezvous --tls-cert/--tls-key``: each wrong file is said with what to do."""

from __future__ import annotations

import shutil
import ssl
from pathlib import Path

import pytest

from app.errors import OptionError
from app.net import rvoptions, tlsfiles
from tests.certs import make
from tests.unit.test_rvoptions import parse


def test_a_good_pair_serves_https_under_the_certificates_name(tmp_path: Path) -> None:
    cert, key, _ = make(tmp_path)
    tls = rvoptions.load_tls(parse("--tls-cert", str(cert), "--tls-key", str(key)))
    assert tls is not None and isinstance(tls.context, ssl.SSLContext)
    assert tls.names == ("localhost", "127.0.0.1") and tls.warning == ""
    assert rvoptions.address_to_give("0.0.0.0", 8765, tls).endswith("https://localhost:8765")
    assert rvoptions.address_to_give("0.0.0.0", 443, tls).endswith("https://localhost")
    server = rvoptions.build_server(parse("--tls-cert", str(cert), "--tls-key", str(key)), tls)
    assert server._ws._ssl is tls.context
    assert rvoptions.load_tls(parse()) is None


def test_without_tls_the_address_to_give_is_a_peermeet_one() -> None:
    text = rvoptions.address_to_give("192.168.1.20", 8765, None)
    assert "Start meeting, A rendezvous server: peermeet://192.168.1.20:8765" in text
    assert text.endswith(  # (a private address: not reachable from afar; it read "from other
        # networks: this server's public name or address for 192.168.1.20")
        "(192.168.1.20 is an address on this network only: for people elsewhere, give this "
        "server's public name or address instead)"
    ), text
    assert rvoptions.address_to_give("93.184.216.34", 8765, None).endswith("//93.184.216.34:8765")
    assert "only this computer" in rvoptions.address_to_give("127.0.0.1", 8765, None)


def test_certificates_that_clients_refuse_are_warned_about(tmp_path: Path) -> None:
    cert, key, _ = make(tmp_path, self_signed=True)
    assert "self-signed" in tlsfiles.load(cert, key).warning
    assert "Let's Encrypt" in tlsfiles.load(cert, key).warning
    cert, key, _ = make(tmp_path, days=(2, 30))
    assert "valid only from" in tlsfiles.load(cert, key).warning


def _argv(cert: Path, key: Path) -> tuple[str, ...]:
    return ("--tls-cert", str(cert), "--tls-key", str(key))


@pytest.mark.parametrize(
    ("case", "needle"),
    [
        ("cert only", "--tls-cert needs --tls-key too"),
        ("key only", "--tls-key needs --tls-cert too"),
        ("no such cert", "cert.pem does not exist"),
        ("cert is a folder", "is a folder: give the file in it"),
        ("junk cert", "is not a certificate in PEM form"),
        ("junk key", "is not a private key in PEM form"),
        ("swapped", "--tls-cert and --tls-key are swapped"),
        ("another key", "does not belong to the certificate"),
        ("passphrase", "protected by a passphrase: give it without one"),
        ("expired", "expired on"),
    ],
)
def test_wrong_files_stop_the_start_with_what_to_do(case: str, needle: str, tmp_path: Path) -> None:
    cert, key, _ = make(tmp_path, days=(-30, -1) if case == "expired" else (-1, 30))
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    argv = {
        "cert only": ("--tls-cert", str(cert)),
        "key only": ("--tls-key", str(key)),
        "no such cert": _argv(tmp_path / "gone" / "cert.pem", key),
        "cert is a folder": _argv(tmp_path, key),
        "junk cert": _argv(junk, key),
        "junk key": _argv(cert, junk),
        "swapped": _argv(key, cert),
        "expired": _argv(cert, key),
    }.get(case)
    if case in ("another key", "passphrase"):
        other = tmp_path / "other"
        other.mkdir()
        _, other_key, _ = make(other, password=b"pw" if case == "passphrase" else None)
        if case == "passphrase":  # (a passphrase on the certificate's own key)
            _, key, _ = make(other, password=b"pw")
            cert = other / "cert.pem"
            other_key = key
        argv = _argv(cert, other_key)
    assert argv is not None
    with pytest.raises(OptionError, match=needle) as raised:
        rvoptions.load_tls(parse(*argv))
    assert raised.value.exit_status == 2  # (a wrong option)
    shutil.rmtree(tmp_path / "other", ignore_errors=True)
