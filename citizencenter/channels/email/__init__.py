"""Inbound and outbound e-mail: parsing raw MIME, threading, acknowledgements and replies.

Pure functions over bytes and stdlib message objects; storing, sending and polling
live in the service and worker layers.
"""
