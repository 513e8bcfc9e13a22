"""The report as DOCX (python-docx): A4, 宋体 body, 黑体 headings, charts embedded,
table header rows repeated across pages, page numbers in the footer."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.image import Image as DocxImage
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from pipelines.evaluation.ooxml import Part, package, parts_of, read_part
from pipelines.evaluation.report import Heading, Image, Para, Report, Table
from pipelines.textsafe import xml_safe

BODY_FONT, HEAD_FONT, LATIN_FONT = "宋体", "黑体", "Times New Roman"
BLACK = RGBColor(0, 0, 0)


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
            out.append(f"<w:t{space}>{escape(xml_safe(part))}</w:t>")
    return "".join(out)


_JC = {"l": "left", "c": "center", "r": "right"}
_CELL_PPR = '<w:pPr><w:spacing w:line="240" w:lineRule="auto" w:after="0"/><w:ind w:firstLine="0"/><w:jc w:val="{jc}"/></w:pPr>'
_HEADER_SHADING = '<w:shd w:val="clear" w:color="auto" w:fill="F2F2F2"/>'


def _table_xml(t: Table, style_id: str) -> str:
    """A table as WordprocessingML: the XML python-docx writes for a Table Grid table,
    centred, fixed layout, the header row repeated across pages and shaded, 9 pt text,
    widths on the grid (LibreOffice reads it) and on every cell (Word does)."""
    widths = [Cm(w).twips for w in t.widths]
    parts = [f'<w:tbl><w:tblPr><w:tblStyle w:val="{style_id}"/>'
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
    # The empty paragraph that keeps two tables apart.
    parts.append('<w:p><w:pPr><w:spacing w:after="0"/></w:pPr></w:p>')
    return "".join(parts)


# Paragraph kinds (report.Para.kind): paragraph properties, run properties.
_PARA = {
    "subtitle": ('<w:pPr><w:jc w:val="center"/></w:pPr>', '<w:rPr><w:sz w:val="28"/></w:rPr>'),
    "placeholder": ('<w:pPr><w:ind w:firstLine="480"/></w:pPr>', '<w:rPr><w:i/><w:color w:val="C00000"/></w:rPr>'),
    "note": ("", '<w:rPr><w:color w:val="404040"/><w:sz w:val="21"/></w:rPr>'),
}
_BODY = ('<w:pPr><w:ind w:firstLine="480"/></w:pPr>', "")  # first line indented 24 pt
_IMAGE = '<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r/></w:p>'  # the picture is added once in place


def _body_xml(report: Report, style_ids: dict[str, str]) -> tuple[list[str], list[tuple[int, Path]]]:
    """The report's blocks as WordprocessingML (the XML python-docx writes for the same
    blocks), a piece a block, and the index of each picture's piece, an empty paragraph
    that render_docx puts the picture in."""
    parts: list[str] = []
    pictures: list[tuple[int, Path]] = []
    for b in report.blocks:
        if isinstance(b, Heading):
            if b.level == 0:
                lines = b.lines or (b.text,)
                runs = "".join(f"<w:r>{_run_content(line)}{'<w:br/>' if k + 1 < len(b.lines or ()) else ''}</w:r>"
                               for k, line in enumerate(lines))
                parts.append(f'<w:p><w:pPr><w:pStyle w:val="{style_ids["Title"]}"/><w:jc w:val="center"/>'
                             f"</w:pPr>{runs}</w:p>")
            else:
                style = style_ids[f"Heading {b.level}"]
                parts.append(f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r>{_run_content(b.text)}</w:r></w:p>')
        elif isinstance(b, Para):
            ppr, rpr = _PARA.get(b.kind, _BODY)
            parts.append(f"<w:p>{ppr}<w:r>{rpr}{_run_content(b.text)}</w:r></w:p>")
        elif isinstance(b, Table):
            parts.append(_table_xml(b, style_ids["Table Grid"]))
        elif isinstance(b, Image):
            pictures.append((len(parts), b.path))
            parts.append(_IMAGE)
    return parts, pictures


# python-docx's default template carries 800 KB of style XML that every report would parse,
# write and compress again: about a hundred table styles of Word 2010's gallery (Word lists
# its built-in styles whether or not a file defines them) and `stylesWithEffects.xml`, a
# copy of the styles that Word 2010 alone reads. The report uses Table Grid of the table
# styles; every paragraph and character style stays.
KEPT_TABLE_STYLES = {"TableNormal", "TableGrid"}
STYLES_WITH_EFFECTS = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"


def _slim(doc) -> None:
    styles = doc.styles.element
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:type")) == "table" and style.get(qn("w:styleId")) not in KEPT_TABLE_STYLES:
            styles.remove(style)
    for rel_id, rel in list(doc.part.rels.items()):
        if rel.reltype == STYLES_WITH_EFFECTS:
            doc.part.drop_rel(rel_id)


DOCUMENT_PART = "word/document.xml"
RELS_PART = "word/_rels/document.xml.rels"
TYPES_PART = "[Content_Types].xml"
CORE_PART = "docProps/core.xml"
IMAGE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
PICTURE_WIDTH = Cm(15.5)
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"


@dataclass(frozen=True)
class _Package:
    """The template's parts: those every report copies as stored, and the four it writes;
    and the ids of the styles the body uses."""

    parts: list[Part]
    document: str  # up to the body's sectPr, and from it
    rels: str
    types: str
    core: str
    style_ids: dict[str, str]

    @classmethod
    @lru_cache(maxsize=1)
    def template(cls) -> _Package:
        """The empty document with page, styles and footer set up, saved once per process."""
        doc = Document()
        _setup(doc)
        _slim(doc)
        doc.core_properties.author = "fiscal-warehouse"
        buffer = io.BytesIO()
        doc.save(buffer)
        parts = parts_of(buffer.getvalue())
        text = {p.name: read_part(p).decode("utf-8") for p in parts if p.name in (DOCUMENT_PART, RELS_PART,
                                                                                  TYPES_PART, CORE_PART)}
        style_ids = {name: doc.styles[name].style_id for name in ("Title", "Heading 1", "Heading 2", "Table Grid")}
        return cls(parts, text[DOCUMENT_PART], text[RELS_PART], text[TYPES_PART], text[CORE_PART], style_ids)


def _picture_xml(n: int, name: str, rel_id: str, cx: int, cy: int) -> str:
    """The inline picture python-docx's `add_picture` writes (docPr ids 1, 2, … in order)."""
    return (f'<w:drawing><wp:inline xmlns:a="{_A}" xmlns:pic="{_PIC}"><wp:extent cx="{cx}" cy="{cy}"/>'
            f'<wp:docPr id="{n}" name="Picture {n}"/><wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/>'
            f'</wp:cNvGraphicFramePr><a:graphic><a:graphicData uri="{_PIC}"><pic:pic><pic:nvPicPr>'
            f'<pic:cNvPr id="0" name="{escape(name, {chr(34): "&quot;"})}"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill>'
            f'<a:blip r:embed="{rel_id}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm>'
            f'<a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr>'
            f"</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing>")


def render_docx(report: Report, path: Path) -> Path:
    """The report as DOCX: the template's package (python-docx's document, set up once per
    process) with this report's body, pictures and title. The body is written as one
    piece of XML, the XML python-docx's API writes for the same blocks (that API, and
    `Table.cell()` which walks the whole table on every call, cost seconds for a report
    of 33 tables); opening and saving the template through python-docx for every report
    cost more than the rest of the report, so its parts are copied as stored."""
    template = _Package.template()
    blocks, pictures = _body_xml(report, template.style_ids)
    rel_ids = set(re.findall(r'Id="(rId\d+)"', template.rels))
    rels, media, by_digest = [], [], {}  # new relationships, image parts, relationship by image content
    for n, (at, picture) in enumerate(pictures, start=1):  # in order: ids 1, 2, …
        png = Path(picture).read_bytes()
        digest = hashlib.sha1(png).hexdigest()  # the same image twice is one part, as python-docx has it
        if digest not in by_digest:
            rel_id = next(f"rId{k}" for k in range(1, len(rel_ids) + 2) if f"rId{k}" not in rel_ids)
            rel_ids.add(rel_id)
            target = f"media/image{len(media) + 1}.png"
            rels.append(f'<Relationship Id="{rel_id}" Type="{IMAGE_REL}" Target="{target}"/>')
            media.append(Part.store(f"word/{target}", png))
            by_digest[digest] = rel_id
        cx, cy = DocxImage.from_blob(png).scaled_dimensions(PICTURE_WIDTH, None)
        drawing = _picture_xml(n, Path(picture).name, by_digest[digest], cx, cy)
        blocks[at] = _IMAGE.replace("<w:r/>", f"<w:r>{drawing}</w:r>")
    body_at = template.document.index("<w:sectPr")
    document = template.document[:body_at] + "".join(blocks) + template.document[body_at:]
    title = escape(xml_safe(report.title)[:255])  # the core properties allow 255 characters
    own = {
        DOCUMENT_PART: document,
        RELS_PART: template.rels.replace("</Relationships>", "".join(rels) + "</Relationships>"),
        TYPES_PART: template.types if not media or 'Extension="png"' in template.types else template.types.replace(
            '<Default Extension="rels"', '<Default Extension="png" ContentType="image/png"/><Default Extension="rels"', 1),
        CORE_PART: template.core.replace("<dc:title/>", f"<dc:title>{title}</dc:title>", 1),
    }
    parts = [Part.deflate(p.name, own[p.name].encode("utf-8")) if p.name in own else p for p in template.parts]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(package(parts + media))
    return path
