"""Citizen feedback after a case is resolved: the request, the one-time link, the answers."""
