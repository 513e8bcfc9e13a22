"""Export text that XML cannot hold (a NUL from a broken system) or a very long title
still makes a DOCX: the characters become U+FFFD, the title property is cut to 255."""

from docx import Document

from pipelines.evaluation.report import Heading, Para, Report
from pipelines.evaluation.report_docx import render_docx


def test_control_characters_and_a_long_title(tmp_path):
    title = "部门整体支出绩效自评报告\x00" + "长" * 400
    report = Report(title=title, public=False, blocks=[Heading("一、基本情况\x01", 1), Para("正文\x00文本\x1f。")])
    path = render_docx(report, tmp_path / "r.docx")
    doc = Document(str(path))
    texts = [p.text for p in doc.paragraphs]
    assert "一、基本情况\ufffd" in texts and "正文\ufffd文本\ufffd。" in texts
    assert len(doc.core_properties.title) == 255 and "\x00" not in doc.core_properties.title
