"""The report as DOCX (python-docx): A4, 宋体 body, 黑体 headings, charts embedded,
table header rows repeated across pages, page numbers in the footer."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from pipelines.evaluation.report import Heading, Image, Para, Report, Table

BODY_FONT, HEAD_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
BLACK = RGBColor(0, 0, 0)
ALIGN = {"l": WD_ALIGN_PARAGRAPH.LEFT, "c": WD_ALIGN_PARAGRAPH.CENTER, "r": WD_ALIGN_PARAGRAPH.RIGHT}


def _fonts(target, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Set the Latin and East-Asian fonts of a style or run (and drop theme fonts)."""
    target.font.name = latin
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)


def _setup(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.4)
    section.top_margin, section.bottom_margin = Cm(2.5), Cm(2.2)

    normal = doc.styles["Normal"]
    _fonts(normal, BODY_FONT)
    normal.font.size = Pt(12)
    normal.paragraph_format.line_spacing = 1.3
    normal.paragraph_format.space_after = Pt(3)
    for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 13)):
        style = doc.styles[name]
        _fonts(style, HEAD_FONT)
        style.font.size = Pt(size)
        style.font.bold = name != "Heading 2"
        style.font.italic = False
        style.font.color.rgb = BLACK
        style.paragraph_format.space_before = Pt(12 if name == "Heading 1" else 6)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.keep_with_next = True
    title_ppr = doc.styles["Title"].element.get_or_add_pPr()
    for border in title_ppr.findall(qn("w:pBdr")):  # the template underlines Title
        title_ppr.remove(border)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    footer._p.append(field)


def _shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    tcpr.append(shading)


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def _table(doc, t: Table) -> None:
    table = doc.add_table(rows=1 + len(t.rows), cols=len(t.header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _repeat_header(table.rows[0])
    for c, width in enumerate(t.widths):  # the grid (LibreOffice reads it) and every cell (Word does)
        table.columns[c].width = Cm(width)
    for r, values in enumerate([t.header, *t.rows]):
        bold = r == 0 or (t.bold_last and r == len(t.rows))
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.width = Cm(t.widths[c])
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER if r == 0 else ALIGN[t.align[c]]
            p.paragraph_format.line_spacing = 1.0
            p.paragraph_format.space_after = Pt(0)
            p.paragraph_format.first_line_indent = Cm(0)
            run = p.add_run(str(value))
            run.font.size = Pt(9)
            run.bold = bold
            if r == 0:
                _shade(cell, "F2F2F2")
    doc.add_paragraph().paragraph_format.space_after = Pt(0)


def render_docx(report: Report, path: Path) -> Path:
    doc = Document()
    _setup(doc)
    doc.core_properties.title = report.title
    doc.core_properties.author = "fiscal-warehouse"
    for b in report.blocks:
        if isinstance(b, Heading):
            if b.level == 0:
                p = doc.add_paragraph(style="Title")
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                for k, line in enumerate(b.lines or (b.text,)):
                    run = p.add_run(line)
                    if k + 1 < len(b.lines or ()):
                        run.add_break()
            else:
                doc.add_heading(b.text, level=b.level)
        elif isinstance(b, Para):
            p = doc.add_paragraph()
            run = p.add_run(b.text)
            if b.kind == "subtitle":
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
                run.font.size = Pt(14)
            elif b.kind == "placeholder":
                run.italic = True
                run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
                p.paragraph_format.first_line_indent = Pt(24)
            elif b.kind == "note":
                run.font.size = Pt(10.5)
                run.font.color.rgb = RGBColor(0x40, 0x40, 0x40)
            else:
                p.paragraph_format.first_line_indent = Pt(24)
        elif isinstance(b, Table):
            _table(doc, b)
        elif isinstance(b, Image):
            doc.add_picture(str(b.path), width=Cm(15.5))
            doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
