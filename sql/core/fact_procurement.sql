-- core.fact_procurement: government procurement contracts that count.
SELECT
    p.unit_code, p.fiscal_year, p.project_code, p.contract_no, p.method, p.contract_amount, p.signed_on,
    p.source_id, p.source_file, p.source_row
FROM staging.procurement p
JOIN meta.slices a
  ON a.source_id = p.source_id AND a.unit_code = p.unit_code AND a.fiscal_year = p.fiscal_year AND a.status = 'active'
JOIN _scope s ON s.unit_code = p.unit_code AND s.fiscal_year = p.fiscal_year
WHERE p.reject_code IS NULL
