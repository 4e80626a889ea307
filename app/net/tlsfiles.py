"""The certificate and key ``peermeet-rendezvous --tls-cert/--tls-key`` serves https with.

Read and checked at start, so a wrong file stops the start with what is wrong and what to do
(OpenSSL's own words, "[SSL] PEM lib (_ssl.c:3900)", say neither), rather than each client
failing later. A certificate PeerMeet clients will refuse (self-signed, or not yet valid) is
said as a warning: it may be meant for a test.
"""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

LETS_ENCRYPT = "a certificate from a public authority such as Let's Encrypt (certbot)"


@dataclass(frozen=True)
class ServerTls:
    context: ssl.SSLContext
    #: the host names the certificate is for (its first one goes in the address to give out)
    names: tuple[str, ...]
    #: why PeerMeet clients will refuse this certificate ("" if they should take it)
    warning: str


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"the TLS {what} file {path} does not exist") from None
    except IsADirectoryError:
        raise ValueError(f"the TLS {what} {path} is a folder: give the file in it") from None
    except OSError as exc:
        raise ValueError(f"cannot read the TLS {what} {path}: {exc.strerror or exc}") from None


def _names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in alt.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in alt.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return tuple(names)


def load(cert_path: Path, key_path: Path, now: datetime.datetime | None = None) -> ServerTls:
    """The TLS set-up of ``cert_path`` (PEM, the full chain) and ``key_path`` (PEM, no
    passphrase); ValueError says what is wrong with them and what to do."""
    cert_pem, key_pem = _read(cert_path, "certificate"), _read(key_path, "key")
    key_only = b"PRIVATE KEY-----" in cert_pem and b"CERTIFICATE-----" not in cert_pem
    if key_only and b"CERTIFICATE-----" in key_pem:
        raise ValueError(
            f"--tls-cert and --tls-key are swapped: the certificate is {key_path}, "
            f"the key {cert_path}"
        )
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError:
        raise ValueError(
            f"{cert_path} is not a certificate in PEM form (-----BEGIN CERTIFICATE-----): give "
            "the certificate file, e.g. fullchain.pem from certbot"
        ) from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:  # (cryptography: "Password was not given but private key is encrypted")
        raise ValueError(
            f"the key {key_path} is protected by a passphrase: give it without one "
            f"(openssl pkey -in {key_path} -out key.pem), readable only by this server's user"
        ) from None
    except ValueError:
        raise ValueError(
            f"{key_path} is not a private key in PEM form (-----BEGIN PRIVATE KEY-----): give "
            "the key file, e.g. privkey.pem from certbot"
        ) from None
    cert = chain[0]
    if cert.public_key() != key.public_key():
        raise ValueError(
            f"the key {key_path} does not belong to the certificate {cert_path}: give the key "
            "the certificate was made for (the first certificate in the file must be the server's)"
        )
    now = now or datetime.datetime.now(datetime.UTC)
    if cert.not_valid_after_utc <= now:
        raise ValueError(
            f"the certificate {cert_path} expired on {cert.not_valid_after_utc:%Y-%m-%d}: "
            "renew it (certbot renew), then start again"
        )
    warning = ""
    if cert.not_valid_before_utc > now:
        warning = f"it is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
    elif len(chain) == 1 and cert.issuer == cert.subject:
        warning = "it is self-signed"
    if warning:
        warning = (
            f"the certificate {cert_path}: {warning}. PeerMeet refuses it, as browsers do, on "
            "every computer that was not told to trust it (people see “certificate not "
            f"trusted”); for meetings with others, use {LETS_ENCRYPT}"
        )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert_path, key_path)
    except (ssl.SSLError, OSError) as exc:  # (checked above: a file changed meanwhile?)
        raise ValueError(f"cannot use {cert_path} with {key_path}: {exc}") from None
    return ServerTls(context, _names(cert), warning)
