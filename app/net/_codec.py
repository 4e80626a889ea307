"""The codec under every PeerMeet message (app.net.protocol): the base class, the registry of
message types by family, and decoding with its checks. No I/O."""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from app.errors import ProtocolError
from app.net.text import is_utf8

VERSION = 1
#: Largest encoded message on any channel (bytes). SDP with many candidates is ~6 KB.
MAX_MESSAGE_BYTES = 64 * 1024

_REGISTRY: dict[str, dict[str, type[Message]]] = {"rv": {}, "signal": {}, "data": {}}
_HINTS: dict[type[Message], dict[str, Any]] = {}


@dataclasses.dataclass(frozen=True)
class Message:
    TYPE: ClassVar[str] = ""
    FAMILY: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"v": VERSION, "type": self.TYPE}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            body[f.name] = list(value) if isinstance(value, tuple) else value
        return body

    def encode(self) -> str:
        text = json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)
        if len(text.encode()) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"{self.TYPE} message is larger than {MAX_MESSAGE_BYTES} bytes")
        return text


M = TypeVar("M", bound=type[Message])


def message_type(family: str, type_name: str) -> Callable[[M], M]:
    def register(cls: M) -> M:
        cls.TYPE = type_name
        cls.FAMILY = family
        _REGISTRY[family][type_name] = cls
        return cls

    return register


def _check(name: str, value: Any, hint: Any) -> Any:
    """Validate one JSON value against a field annotation; return the Python value."""
    if hint is str and isinstance(value, str):
        if not is_utf8(value):
            raise ProtocolError(f"field {name!r} is not valid Unicode")
        return value
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):  # (1e999, Infinity, NaN: json reads them)
            raise ProtocolError(f"field {name!r} is not a finite number")
        return float(value)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _check(name, value, inner[0])
    if origin is tuple and isinstance(value, list):
        (item,) = typing.get_args(hint)[:1]
        return tuple(_check(name, v, item) for v in value)
    raise ProtocolError(f"field {name!r} has the wrong type")


def from_dict(family: str, body: Any) -> Message:
    if not isinstance(body, dict):
        raise ProtocolError("message is not a JSON object")
    version = body.get("v")
    if type(version) is not int or version != VERSION:  # (true and 1.0 equal 1 in Python)
        raise ProtocolError(f"unsupported protocol version {version!r} (this app speaks {VERSION})")
    type_name = body.get("type")
    cls = _REGISTRY[family].get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise ProtocolError(f"unknown {family} message type {type_name!r}")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in body:
            kwargs[f.name] = _check(f.name, body[f.name], hints[f.name])
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ProtocolError(f"{type_name} message lacks field {f.name!r}")
    # Fields this version does not know are ignored, so a later version can add optional
    # fields (with a default) that this one still reads (docs/signaling-protocol.md).
    return cls(**kwargs)


def decode(family: str, data: str | bytes) -> Message:
    """Decode one message of ``family``; raise ProtocolError on anything malformed."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message is larger than {MAX_MESSAGE_BYTES} bytes")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"message is not valid JSON ({exc})") from None
    except RecursionError:  # e.g. [[[[… thousands deep
        raise ProtocolError("message is nested too deeply") from None
    return from_dict(family, body)


def all_types() -> dict[str, dict[str, type[Message]]]:
    """Every registered message class by family and type (for docs and golden tests)."""
    return {family: dict(types_) for family, types_ in _REGISTRY.items()}
