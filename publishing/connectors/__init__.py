"""Adapters that put a publication on a platform: one protocol (base), one module per connector.

Adapters speak HTTP (or write files) and return plain values; they never touch the ORM.
"""
