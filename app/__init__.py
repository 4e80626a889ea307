"""PeerMeet: peer-to-peer video meetings."""

__version__ = "0.1.0"
