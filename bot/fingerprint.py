"""Digests of source files, for Rasa components whose training output depends on our code."""
from __future__ import annotations

import hashlib
from pathlib import Path


def source_digest(*files: str | Path) -> str:
    """sha256 over the named files' bytes (Rasa's cache then retrains when the code changes)."""
    digest = hashlib.sha256()
    for file in files:
        path = Path(file)
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
