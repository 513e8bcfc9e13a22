-- core.fact_indicators: performance indicators (绩效指标) that count, as the ledger gives them.
SELECT
    i.unit_code, i.fiscal_year, i.project_code, i.level1, i.level2, i.name, i.measure_unit, i.direction,
    i.target_text, i.target, i.actual_text, i.actual, i.weight, i.note, i.score AS hand_score,
    i.source_id, i.source_file, i.source_row
FROM staging.ledger_indicators i
JOIN meta.slices a
  ON a.source_id = i.source_id AND a.unit_code = i.unit_code AND a.fiscal_year = i.fiscal_year AND a.status = 'active'
JOIN _scope s ON s.unit_code = i.unit_code AND s.fiscal_year = i.fiscal_year
WHERE i.reject_code IS NULL
