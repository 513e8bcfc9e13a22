-- ledger_unknown_disclosure: ledger projects whose 公开属性 is a wording the loader does not
-- know (not 公开/是/empty, not one of the known secret wordings). Such a project is read
-- as 涉密 (disclosure fails closed: it is left out of every public output); the warning
-- asks the ledger's owner to write 公开 or 涉密. One row per ledger row.
SELECT
    l.unit_code, l.fiscal_year, l.source_file, l.source_row,
    coalesce(json_extract_string(so.headers, '$.disclosure'), '公开属性') AS field,
    l.disclosure_text AS value_provided,
    '公开 或 涉密（其他写法按涉密处理，不予公开）' AS value_expected,
    NULL::DECIMAL(18, 2) AS difference,
    '项目 ' || l.project_code || '：按涉密处理 / read as 涉密' AS detail
FROM staging.ledger_projects l
JOIN _scope s ON s.unit_code = l.unit_code AND s.fiscal_year = l.fiscal_year
JOIN meta.slices a
  ON a.source_id = l.source_id AND a.unit_code = l.unit_code AND a.fiscal_year = l.fiscal_year AND a.status = 'active'
JOIN meta.sources so ON so.source_id = l.source_id
WHERE l.reject_code IS NULL AND NOT fw_disclosure_known(l.disclosure_text)
