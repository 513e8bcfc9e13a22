"""The report as DOCX (python-docx): A4, 宋体 body, 黑体 headings, charts embedded,
table header rows repeated across pages, page numbers in the footer."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
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


def _run_content(text: str) -> str:
    """A run's content as python-docx's `run.text = text` writes it: a tab is <w:tab/>, a
    line break <w:br/>, the rest <w:t> (space-preserving when it starts or ends with space)."""
    out = []
    for part in re.split(r"(\t|\r|\n)", text):
        if part == "\t":
            out.append("<w:tab/>")
        elif part in ("\r", "\n"):
            out.append("<w:br/>")
        elif part:
            space = ' xml:space="preserve"' if len(part.strip()) < len(part) else ""
            out.append(f"<w:t{space}>{escape(part)}</w:t>")
    return "".join(out)


_JC = {"l": "left", "c": "center", "r": "right"}
_CELL_PPR = '<w:pPr><w:spacing w:line="240" w:lineRule="auto" w:after="0"/><w:ind w:firstLine="0"/><w:jc w:val="{jc}"/></w:pPr>'
_HEADER_SHADING = '<w:shd w:val="clear" w:color="auto" w:fill="F2F2F2"/>'


def _table(doc, t: Table) -> None:
    """The table as one piece of WordprocessingML, parsed once: python-docx's `Table.cell()`
    walks the whole table on every call (quadratic; 33 tables cost seconds). The XML is the
    one python-docx writes for the same calls: a Table Grid table, centred, fixed layout,
    the header row repeated across pages and shaded, 9 pt text, widths on the grid
    (LibreOffice reads it) and on every cell (Word does)."""
    widths = [Cm(w).twips for w in t.widths]
    parts = [f'<w:tbl {nsdecls("w")}><w:tblPr><w:tblStyle w:val="{doc.styles["Table Grid"].style_id}"/>'
             '<w:tblW w:type="auto" w:w="0"/><w:jc w:val="center"/><w:tblLayout w:type="fixed"/>'
             '<w:tblLook w:firstColumn="1" w:firstRow="1" w:lastColumn="0" w:lastRow="0" w:noHBand="0" '
             'w:noVBand="1" w:val="04A0"/></w:tblPr><w:tblGrid>']
    parts += [f'<w:gridCol w:w="{w}"/>' for w in widths]
    parts.append("</w:tblGrid>")
    for r, values in enumerate([t.header, *t.rows]):
        header = r == 0
        bold = "<w:b/>" if header or (t.bold_last and r == len(t.rows)) else '<w:b w:val="0"/>'
        parts.append('<w:tr><w:trPr><w:tblHeader w:val="true"/></w:trPr>' if header else "<w:tr>")
        for c, value in enumerate(values):
            shading = _HEADER_SHADING if header else ""
            ppr = _CELL_PPR.format(jc="center" if header else _JC[t.align[c]])
            parts.append(f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{widths[c]}"/>{shading}</w:tcPr><w:p>{ppr}'
                         f'<w:r><w:rPr>{bold}<w:sz w:val="18"/></w:rPr>{_run_content(str(value))}</w:r></w:p></w:tc>')
        parts.append("</w:tr>")
    parts.append("</w:tbl>")
    doc.element.body.sectPr.addprevious(parse_xml("".join(parts)))
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
