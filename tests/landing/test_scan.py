"""scan_file: the sha256 and the empty lines of a landing file, in one read."""

from __future__ import annotations

import hashlib
import random

import pytest

from pipelines.landing import readers


def empty_lines_by_hand(data: bytes) -> tuple[int, ...]:
    if not data:
        return ()
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines = lines[:-1]  # the text after the last newline is no line
    return tuple(n for n, line in enumerate(lines, 1) if line in (b"", b"\r"))


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64, 1 << 20])
def test_empty_lines_and_hash_whatever_the_chunk_boundaries(tmp_path, monkeypatch, chunk):
    """Runs of empty lines, LF and CRLF, at the start and the end, cut at every chunk size."""
    monkeypatch.setattr(readers, "SCAN_CHUNK", chunk)
    rng = random.Random(chunk)
    pieces = [b"\n", b"\r\n", b"\n\n", b"\r\n\r\n", b"a,b\n", b"1,2\r\n", "合计,3\n".encode(), b"\n\r\n\n"]
    for case in range(20):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        path = tmp_path / f"{case}.csv"
        path.write_bytes(data)
        scan = readers.scan_file(path, find_empty_lines=True)
        assert scan.sha256 == hashlib.sha256(data).hexdigest()
        assert scan.empty_lines == empty_lines_by_hand(data), data
    assert readers.scan_file(path).empty_lines is None
