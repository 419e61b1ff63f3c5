"""Apprise URLs kept in Prefect Secret blocks, so passwords stay out of config files."""

from __future__ import annotations


def read_prefect_secret(block_name: str) -> str:
    from prefect.blocks.system import Secret

    value = Secret.load(block_name).get()
    if not isinstance(value, str) or not value.strip():
        raise ValueError("the Secret block holds no URL string")
    return value.strip()
