-- staging.staffing: head counts (人员情况) typed and checked.
WITH src AS (
    SELECT r.*, s.title_unit_code, s.title_unit_name, s.title_fiscal_year
    FROM raw.staffing__rows r
    JOIN meta.sources s USING (source_key)
    WHERE r.row_kind = 'data' AND r.source_key IN (SELECT source_key FROM _batch)
),
p AS (
    SELECT
        source_key, source_row,
        fw_row_unit_code(unit_code, title_unit_code) AS unit_code,
        coalesce(fw_text(unit_name), title_unit_name) AS unit_name,
        coalesce(fw_integer(fiscal_year), title_fiscal_year)::INTEGER AS fiscal_year,
        fw_text(fiscal_year) AS fiscal_year_text,
        fw_integer(authorized) AS authorized, fw_text(authorized) AS authorized_text,
        fw_integer(in_service) AS in_service, fw_text(in_service) AS in_service_text,
        fw_integer(retired) AS retired, fw_text(retired) AS retired_text
    FROM src
)
SELECT
    source_key, source_row,
    unit_code, unit_name, fiscal_year, authorized, in_service, retired,
    CASE
        WHEN unit_code IS NULL OR fiscal_year IS NULL AND fiscal_year_text IS NULL THEN 'missing_required'
        WHEN fiscal_year IS NULL OR fiscal_year NOT BETWEEN 2000 AND year(current_date) + 1 THEN 'unreadable_year'
        WHEN authorized_text IS NOT NULL AND authorized IS NULL OR in_service_text IS NOT NULL AND in_service IS NULL
          OR retired_text IS NOT NULL AND retired IS NULL THEN 'unreadable_number'
    END AS reject_code,
    CASE
        WHEN unit_code IS NULL THEN '缺少单位编码 / unit code missing'
        WHEN fiscal_year IS NULL AND fiscal_year_text IS NULL THEN '缺少年度 / fiscal year missing'
        WHEN fiscal_year IS NULL OR fiscal_year NOT BETWEEN 2000 AND year(current_date) + 1
            THEN '无法识别的年度 / unreadable fiscal year: ' || fiscal_year_text
        WHEN authorized_text IS NOT NULL AND authorized IS NULL THEN '无法识别的编制数 / unreadable 编制数: ' || authorized_text
        WHEN in_service_text IS NOT NULL AND in_service IS NULL THEN '无法识别的在职人数 / unreadable 在职人数: ' || in_service_text
        WHEN retired_text IS NOT NULL AND retired IS NULL THEN '无法识别的离退休人数 / unreadable 离退休人数: ' || retired_text
    END AS reject_reason
FROM p
