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
import zipfile
from dataclasses import dataclass

import xlsxwriter

from pipelines.evaluation.ooxml import Part, package, parts_of, read_part

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
class SourceBook:
    """The parts of a workbook written by xlsxwriter that its sheets are taken from."""

    sheets: list[bytes]  # sheet XML in the workbook's order, string cells indexing `strings`
    print_areas: list[bytes | None]  # each sheet's print area as a range (b"$A$1:$H$18")
    strings: list[bytes]  # the shared strings, each its `<si>…</si>` element
    strings_head: bytes  # the `<sst …>` start tag
    styles: Part

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
                       Part.deflate(STYLES_PART, book.read(STYLES_PART)))


@dataclass(frozen=True)
class Skeleton:
    """A package without content that sheets are put in: its parts as stored, in order."""

    parts: list[Part]
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
        parts = parts_of(out.getvalue())
        return cls(parts, read_part(next(part for part in parts if part.name == WORKBOOK_PART)))


def assemble(skeleton: Skeleton, source: SourceBook, picks: list[int]) -> bytes:
    """A workbook of the source's sheets `picks` (in that order) in `skeleton`, which has
    len(picks) sheets; the first sheet is the selected one, as xlsxwriter has it."""
    strings: dict[int, int] = {}  # the source's string index -> this workbook's
    count = 0
    parts: dict[str, Part] = {STYLES_PART: source.styles}

    def renumber(match: re.Match) -> bytes:
        return b' t="s"><v>%d</v>' % strings.setdefault(int(match[1]), len(strings))

    for k, pick in enumerate(picks):
        xml, n = _STRING_CELL.subn(renumber, source.sheets[pick])
        count += n
        xml = xml.replace(_TAB_SELECTED, b"", 1)
        if k == 0:
            xml = xml.replace(b"<sheetView ", b"<sheetView" + _TAB_SELECTED + b" ", 1)
        parts[SHEET_PART.format(k + 1)] = Part.deflate(SHEET_PART.format(k + 1), xml)
    sst = b"".join([
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        re.sub(rb'count="\d+" uniqueCount="\d+"', b'count="%d" uniqueCount="%d"' % (count, len(strings)),
               source.strings_head),
        *(source.strings[old] for old in strings), b"</sst>"])
    parts[STRINGS_PART] = Part.deflate(STRINGS_PART, sst)

    def print_area(match: re.Match) -> bytes:
        area = source.print_areas[picks[int(match[2])]]
        if area is None:
            raise ValueError("a sheet without a print area put in a skeleton that has one")
        return match[1] + match[3].rpartition(b"!")[0] + b"!" + area + match[4]

    parts[WORKBOOK_PART] = Part.deflate(WORKBOOK_PART, _PRINT_AREA.sub(print_area, skeleton.workbook))
    return package([parts.get(part.name, part) for part in skeleton.parts])
