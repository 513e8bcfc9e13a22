-- tieout_staging_core: per unit and year, the accepted budget-accounting expenditure
-- lines (7xxx) of the counting files in staging = core.fact_spending, in amount and in
-- number of lines.
WITH staged AS (
    SELECT v.unit_code, v.fiscal_year, sum(v.amount) AS amount, count(*) AS lines
    FROM staging.voucher_lines v
    JOIN _scope s ON s.unit_code = v.unit_code AND s.fiscal_year = v.fiscal_year
    JOIN meta.slices a
      ON a.source_id = v.source_id AND a.unit_code = v.unit_code AND a.fiscal_year = v.fiscal_year AND a.status = 'active'
    WHERE v.reject_code IS NULL AND v.is_spending
    GROUP BY ALL
),
facts AS (
    SELECT f.unit_code, f.fiscal_year, sum(f.amount) AS amount, count(*) AS lines
    FROM core.fact_spending f
    JOIN _scope s ON s.unit_code = f.unit_code AND s.fiscal_year = f.fiscal_year
    GROUP BY ALL
),
compared AS (
    SELECT s.unit_code, s.fiscal_year,
           coalesce(st.amount, 0) AS staged_amount, coalesce(f.amount, 0) AS fact_amount,
           coalesce(st.lines, 0) AS staged_lines, coalesce(f.lines, 0) AS fact_lines
    FROM _scope s
    LEFT JOIN staged st ON st.unit_code = s.unit_code AND st.fiscal_year = s.fiscal_year
    LEFT JOIN facts f ON f.unit_code = s.unit_code AND f.fiscal_year = s.fiscal_year
)
SELECT unit_code, fiscal_year, NULL::VARCHAR AS source_file, NULL::BIGINT AS source_row,
       'core.fact_spending.amount' AS field, fact_amount::DECIMAL(18, 2)::VARCHAR AS value_provided,
       staged_amount::DECIMAL(18, 2)::VARCHAR AS value_expected,
       (fact_amount - staged_amount)::DECIMAL(18, 2) AS difference,
       'Σ staging.voucher_lines（7xxx，未隔离，计数文件）' AS detail
FROM compared WHERE fact_amount <> staged_amount
UNION ALL
SELECT unit_code, fiscal_year, NULL, NULL,
       'core.fact_spending 行数', fact_lines::VARCHAR, staged_lines::VARCHAR,
       (fact_lines - staged_lines)::DECIMAL(18, 2),
       'staging.voucher_lines（7xxx，未隔离，计数文件）行数'
FROM compared WHERE fact_lines <> staged_lines
