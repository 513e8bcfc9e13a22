"""Office Open XML packages (XLSX, DOCX) put together from parts: a ZIP file whose parts
that do not change from one file to the next are compressed once and copied as stored.

zipfile compresses every part of every file again (a chart's PNG too, which deflate does
not shrink), and python-docx or xlsxwriter write the same theme, styles and settings for
each of the ~30 files of a unit-year; here a template's parts are read once, each file
writes only the parts that are its own.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """One part of a package as it is stored in the ZIP file."""

    name: str
    crc: int
    stored: bytes  # raw deflate, or the bytes themselves when `method` is ZIP_STORED
    size: int
    method: int = zipfile.ZIP_DEFLATED

    @classmethod
    def deflate(cls, name: str, data: bytes) -> Part:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # as zipfile does
        return cls(name, zlib.crc32(data), compressor.compress(data) + compressor.flush(), len(data))

    @classmethod
    def store(cls, name: str, data: bytes) -> Part:
        """Uncompressed: for data that is compressed already (PNG)."""
        return cls(name, zlib.crc32(data), data, len(data), zipfile.ZIP_STORED)


def parts_of(data: bytes) -> list[Part]:
    """The parts of a ZIP file as stored, in its order, without decompressing them."""
    parts = []
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for info in package.infolist():
            if info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED) or info.flag_bits & 0x08:
                raise ValueError(f"{info.filename}: a part stored in a way this module does not copy")
            # The local header's own name and extra field lengths (they may differ from the directory's).
            name_length, extra_length = struct.unpack_from("<2H", data, info.header_offset + 26)
            start = info.header_offset + 30 + name_length + extra_length
            parts.append(Part(info.filename, info.CRC, data[start:start + info.compress_size], info.file_size,
                              info.compress_type))
    return parts


def read_part(part: Part) -> bytes:
    return part.stored if part.method == zipfile.ZIP_STORED else zlib.decompress(part.stored, -15)


def package(parts: list[Part]) -> bytes:
    """The ZIP file of these parts, in this order, as zipfile writes one (dated 1980-01-01
    as xlsxwriter's are, rw------- on Unix); stored data is copied, not compressed again."""
    body, directory, offset = [], [], 0
    for part in parts:
        name = part.name.encode("ascii")  # the part names of a package are ASCII
        common = (20, 0, part.method, 0, 33, part.crc, len(part.stored), part.size, len(name), 0)
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", *common)
        directory.append(struct.pack("<4sH5H3L5H2L", b"PK\x01\x02", 3 << 8 | 20, *common, 0, 0, 0, 0o600 << 16, offset)
                         + name)
        body += [header, name, part.stored]
        offset += len(header) + len(name) + len(part.stored)
    listing = b"".join(directory)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(listing), offset, 0)
    return b"".join(body) + listing + end
