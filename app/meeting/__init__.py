"""Meetings: rooms, links, lifetimes and the call session. Qt-free."""
