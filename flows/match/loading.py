"""Loading config files and listing text files for the matcher's commands.

Rules:
- A YAML file must exist, be UTF-8 and hold a mapping; any other case raises
  :class:`flows.errors.ConfigError` naming the file (and line/column for YAML errors).
- A pydantic error becomes a ConfigError naming file and key (topics and rules by their ids);
  an unknown key says "unknown key".
"""

from __future__ import annotations

import pathlib
from typing import Any

import yaml
from pydantic import ValidationError

from flows.errors import ConfigError
from flows.match.schema import loc_to_key
from flows.yamlsafe import SAFE_LOADER

def _load_yaml(path: pathlib.Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, "file not found") from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), None, f"not UTF-8 text (byte {exc.start})") from None
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(str(path), None, f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), None, "expected a mapping at the top level")
    return data


def _config_error(path: pathlib.Path, exc: ValidationError, raw: Any) -> ConfigError:
    err = exc.errors()[0]
    key = loc_to_key(tuple(err.get("loc", ())), raw)
    msg = err.get("msg", "invalid")
    if err.get("type") == "extra_forbidden":
        msg = "unknown key"
    more = len(exc.errors()) - 1
    if more > 0:
        msg += f" (and {more} more error{'s' if more > 1 else ''})"
    return ConfigError(str(path), key or None, msg)
