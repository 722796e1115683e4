"""A recording's bytes: its JSON codec and its compressors, shared by writer and reader."""

from __future__ import annotations

import json
from typing import Any

try:  # msgspec is a dependency; the stdlib json is the fallback for odd environments
    import msgspec

    encode_json = msgspec.json.Encoder().encode
    decode_json = msgspec.json.Decoder().decode
except ImportError:  # pragma: no cover
    def encode_json(record: Any) -> bytes:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()

    decode_json = json.loads

MALFORMED = "malformed"


def zstandard_module() -> Any:
    try:
        import zstandard
    except ImportError:
        raise RuntimeError("reading/writing .zst needs the 'zstandard' package "
                           "(pip install 'django-signal-monitor[compress]')") from None
    return zstandard
