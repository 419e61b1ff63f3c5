"""Feeds and pages off the network.

Takes configured feed URLs and item links; gives parsed feed entries and bounded page bytes.
Rules: every request is bounded (timeouts, total deadline, size cap); every address a publisher
chooses passes the address guard (`guard`) before a byte is sent.
"""
