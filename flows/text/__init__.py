"""Bytes to article text to normalized text.

Takes page bytes and their HTTP headers; gives the article text in the seeds' shape (`extract`) and
the normalized form the matcher and fingerprints read (`normalize`). Pure functions, no I/O.
"""
