"""Networking: wire codec, sealing, rendezvous server and client, peer connections, discovery."""
