"""Workbooks made of the sheets of another workbook, without writing those sheets again.

The 项目支出绩效自评表 come as one workbook a project and all of them as the sheets of one
workbook (internal and public). xlsxwriter writes each distinct sheet once, into one
`SourceBook`; every file is then that book's sheet XML put into a package: a skeleton
that xlsxwriter writes with the target's sheet names and properties but no cells (its
workbook, content types, relationships and document properties are xlsxwriter's own),
the source's styles (every sheet's `s=` indices point into them) and a shared-strings
part holding only the strings of the sheets it holds, the sheets' indices renumbered.
Writing a sheet with xlsxwriter costs about as much as a whole small workbook does, so
assembling the ~30 files of a unit-year this way costs a fraction of writing each.

This relies on what xlsxwriter writes (checked by tests/evaluation): a string cell is
`<c r=".." s=".." t="s"><v>N</v></c>`, a shared string is one `<si>…</si>`, a sheet has
no relationships of its own (no images, comments or hyperlinks), and a print area is a
`_xlnm.Print_Area` defined name per sheet.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

import xlsxwriter

_STRING_CELL = re.compile(rb' t="s"><v>(\d+)</v>')
_SHARED_STRING = re.compile(rb"<si>.*?</si>", re.S)
_SST_HEAD = re.compile(rb"<sst [^>]*>")
_PRINT_AREA = re.compile(rb'(<definedName name="_xlnm\.Print_Area" localSheetId="(\d+)">)([^<]*)(</definedName>)')
_TAB_SELECTED = b' tabSelected="1"'
SHEET_PART = "xl/worksheets/sheet{}.xml"
STRINGS_PART = "xl/sharedStrings.xml"
STYLES_PART = "xl/styles.xml"
WORKBOOK_PART = "xl/workbook.xml"


@dataclass(frozen=True)
class _Entry:
    """One part of a ZIP package, compressed (raw deflate) as it is stored."""

    name: str
    crc: int
    compressed: bytes
    size: int

    @classmethod
    def deflate(cls, name: str, data: bytes) -> _Entry:
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)  # zipfile's own
        return cls(name, zlib.crc32(data), compressor.compress(data) + compressor.flush(), len(data))


def _zip(entries: list[_Entry]) -> bytes:
    """A ZIP file of these entries as zipfile writes xlsxwriter's (deflated, dated
    1980-01-01, rw------- on Unix), the compressed data not compressed again."""
    body, directory, offset = [], [], 0
    for entry in entries:
        name = entry.name.encode("ascii")  # part names of a package are ASCII
        common = (20, 0, zipfile.ZIP_DEFLATED, 0, 33, entry.crc, len(entry.compressed), entry.size, len(name), 0)
        header = struct.pack("<4s5H3L2H", b"PK\x03\x04", *common)
        directory.append(struct.pack("<4sH5H3L5H2L", b"PK\x01\x02", 3 << 8 | 20, *common, 0, 0, 0, 0o600 << 16, offset)
                         + name)
        body += [header, name, entry.compressed]
        offset += len(header) + len(name) + len(entry.compressed)
    listing = b"".join(directory)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(listing), offset, 0)
    return b"".join(body) + listing + end


@dataclass(frozen=True)
class SourceBook:
    """The parts of a workbook written by xlsxwriter that its sheets are taken from."""

    sheets: list[bytes]  # sheet XML in the workbook's order, string cells indexing `strings`
    print_areas: list[bytes | None]  # each sheet's print area as a range (b"$A$1:$H$18")
    strings: list[bytes]  # the shared strings, each its `<si>…</si>` element
    strings_head: bytes  # the `<sst …>` start tag
    styles: _Entry

    @classmethod
    def read(cls, data: bytes) -> SourceBook:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            names = set(book.namelist())
            sheets = []
            while SHEET_PART.format(len(sheets) + 1) in names:
                sheets.append(book.read(SHEET_PART.format(len(sheets) + 1)))
            areas: list[bytes | None] = [None] * len(sheets)
            for match in _PRINT_AREA.finditer(book.read(WORKBOOK_PART)):
                areas[int(match[2])] = match[3].rpartition(b"!")[2]
            sst = book.read(STRINGS_PART) if STRINGS_PART in names else b""
            head = _SST_HEAD.search(sst)
            return cls(sheets, areas, _SHARED_STRING.findall(sst), head[0] if head else b"",
                       _Entry.deflate(STYLES_PART, book.read(STYLES_PART)))


@dataclass(frozen=True)
class Skeleton:
    """A package without content that sheets are put in: its parts as stored, in order."""

    entries: list[_Entry]
    workbook: bytes  # xl/workbook.xml, whose print areas each workbook made from it sets

    @classmethod
    def write(cls, names: list[str], properties: dict) -> Skeleton:
        """xlsxwriter's workbook with these sheet names and properties, a print area on each
        sheet and a shared-strings part."""
        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True})
        book.set_properties(properties)
        for name in names:
            book.add_worksheet(name).print_area(0, 0, 0, 0)
        book.worksheets()[0].write_string(0, 0, "-")  # so that the package has its shared-strings part
        book.close()
        data = out.getvalue()
        entries = []
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            for info in package.infolist():
                assert info.compress_type == zipfile.ZIP_DEFLATED and not info.extra, info
                start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
                entries.append(_Entry(info.filename, info.CRC, data[start:start + info.compress_size], info.file_size))
            return cls(entries, package.read(WORKBOOK_PART))


def assemble(package: Skeleton, source: SourceBook, picks: list[int]) -> bytes:
    """A workbook of the source's sheets `picks` (in that order) in `package`, a skeleton
    with len(picks) sheets; the first sheet is the selected one, as xlsxwriter has it."""
    strings: dict[int, int] = {}  # the source's string index -> this workbook's
    count = 0
    parts: dict[str, _Entry] = {STYLES_PART: source.styles}

    def renumber(match: re.Match) -> bytes:
        return b' t="s"><v>%d</v>' % strings.setdefault(int(match[1]), len(strings))

    for k, pick in enumerate(picks):
        xml, n = _STRING_CELL.subn(renumber, source.sheets[pick])
        count += n
        xml = xml.replace(_TAB_SELECTED, b"", 1)
        if k == 0:
            xml = xml.replace(b"<sheetView ", b"<sheetView" + _TAB_SELECTED + b" ", 1)
        parts[SHEET_PART.format(k + 1)] = _Entry.deflate(SHEET_PART.format(k + 1), xml)
    sst = b"".join([
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        re.sub(rb'count="\d+" uniqueCount="\d+"', b'count="%d" uniqueCount="%d"' % (count, len(strings)),
               source.strings_head),
        *(source.strings[old] for old in strings), b"</sst>"])
    parts[STRINGS_PART] = _Entry.deflate(STRINGS_PART, sst)

    def print_area(match: re.Match) -> bytes:
        area = source.print_areas[picks[int(match[2])]]
        if area is None:
            raise ValueError("a sheet without a print area put in a skeleton that has one")
        return match[1] + match[3].rpartition(b"!")[0] + b"!" + area + match[4]

    parts[WORKBOOK_PART] = _Entry.deflate(WORKBOOK_PART, _PRINT_AREA.sub(print_area, package.workbook))
    return _zip([parts.get(entry.name, entry) for entry in package.entries])
