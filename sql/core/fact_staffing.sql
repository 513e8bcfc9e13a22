-- core.fact_staffing: head counts per unit and year (the last row when a file repeats one).
SELECT
    t.unit_code, t.fiscal_year,
    arg_max(t.authorized, t.source_row) AS authorized,
    arg_max(t.in_service, t.source_row) AS in_service,
    arg_max(t.retired, t.source_row) AS retired,
    count(*) AS rows_given
FROM staging.staffing t
JOIN meta.slices a
  ON a.source_id = t.source_id AND a.unit_code = t.unit_code AND a.fiscal_year = t.fiscal_year AND a.status = 'active'
JOIN _scope s ON s.unit_code = t.unit_code AND s.fiscal_year = t.fiscal_year
WHERE t.reject_code IS NULL
GROUP BY t.unit_code, t.fiscal_year
