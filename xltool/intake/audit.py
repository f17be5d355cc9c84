"""What the audit record knows of a file on disk: its size and SHA-256, read in
bounded chunks (the bytes are hashed, never parsed)."""
from __future__ import annotations

import hashlib
from pathlib import Path


def file_digest(path: Path, chunk: int = 1 << 20) -> tuple[int | None, str]:
    """(size in bytes, SHA-256 in hex) of the file at ``path``; (None, "") when it
    cannot be read."""
    digest, size = hashlib.sha256(), 0
    try:
        with Path(path).open("rb") as fh:
            while True:
                data = fh.read(chunk)
                if not data:
                    break
                size += len(data)
                digest.update(data)
    except OSError:
        return None, ""
    return size, digest.hexdigest()
