"""The self-evaluation: common indicators, the 自评表 (XLSX) and the 自评报告 (DOCX/MD)."""
