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
        fw_integer(retired) AS retired, fw_text(retired) AS retired_text,
        -- the cells as read, for the reject's value
        unit_code AS unit_code_raw, fiscal_year AS fiscal_year_raw, authorized AS authorized_raw,
        in_service AS in_service_raw, retired AS retired_raw
    FROM src
),
checked AS (
    SELECT p.*,
        CASE
            WHEN unit_code IS NULL THEN fw_reject('missing_required', 'unit_code', unit_code_raw,
                '缺少单位编码 / unit code missing')
            WHEN fiscal_year IS NULL AND fiscal_year_text IS NULL THEN fw_reject('missing_required', 'fiscal_year',
                fiscal_year_raw, '缺少年度 / fiscal year missing')
            WHEN fiscal_year IS NULL OR fiscal_year NOT BETWEEN 2000 AND year(current_date) + 1
                THEN fw_reject('unreadable_year', 'fiscal_year', fiscal_year_raw,
                    '无法识别的年度 / unreadable fiscal year: ' || fiscal_year_text)
            WHEN authorized_text IS NOT NULL AND authorized IS NULL THEN fw_reject('unreadable_number', 'authorized',
                authorized_raw, '无法识别的编制数 / unreadable 编制数: ' || authorized_text)
            WHEN in_service_text IS NOT NULL AND in_service IS NULL THEN fw_reject('unreadable_number', 'in_service',
                in_service_raw, '无法识别的在职人数 / unreadable 在职人数: ' || in_service_text)
            WHEN retired_text IS NOT NULL AND retired IS NULL THEN fw_reject('unreadable_number', 'retired',
                retired_raw, '无法识别的离退休人数 / unreadable 离退休人数: ' || retired_text)
        END AS reject
    FROM p
)
SELECT
    source_key, source_row,
    unit_code, unit_name, fiscal_year, authorized, in_service, retired,
    reject.code AS reject_code, reject.field AS reject_field, reject.value AS reject_value, reject.reason AS reject_reason
FROM checked
