-- overlapping_files: counting voucher slices whose period overlaps another counting
-- file's without one containing the other (contract section 1: both are kept and
-- flagged). From the file-identity resolution, meta.slices.overlaps_with.
SELECT
    a.unit_code, a.fiscal_year, so.source_file, NULL::BIGINT AS source_row,
    '期间' AS field,
    strftime(a.period_start, '%Y-%m-%d') || ' 至 ' || strftime(a.period_end, '%Y-%m-%d') AS value_provided,
    '与其他文件的期间不重叠，或被新文件完整包含替换' AS value_expected,
    NULL::DECIMAL(18, 2) AS difference,
    '期间重叠的文件：' || a.overlaps_with AS detail
FROM meta.slices a
JOIN _scope s ON s.unit_code = a.unit_code AND s.fiscal_year = a.fiscal_year
JOIN meta.sources so ON so.source_id = a.source_id
WHERE a.status = 'active' AND a.overlaps_with IS NOT NULL
