-- staging.ledger_projects: the project ledger's 项目 sheet, typed and checked.
WITH src AS (
    SELECT r.*, s.title_unit_code, s.title_unit_name, s.title_fiscal_year
    FROM raw.ledger_projects__rows r
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
        fw_project_code(project_code) AS project_code,
        coalesce(fw_text(project_name), fw_project_name(project_code)) AS project_name,
        fw_text(category) AS category,
        fw_text(office) AS office,
        fw_bool(is_key) AS is_key,
        fw_text(is_key) AS is_key_text,
        fw_disclosure(fw_text(disclosure)) AS disclosure,  -- fails closed (sql/macros/domain.sql)
        fw_text(disclosure) AS disclosure_text,
        fw_date(start_date) AS start_date,
        fw_text(start_date) AS start_text,
        fw_date(end_date) AS end_date,
        fw_text(end_date) AS end_text,
        fw_text(status) AS status,
        fw_text(goal) AS goal,                 -- 年度总体目标 (optional, free text)
        fw_text(goal_result) AS goal_result,   -- 实际完成情况 (optional, free text)
        contains(concat_ws('|', unit_code, project_code, project_name, category, office, disclosure), '�') AS bad_text,
        CASE WHEN bad_text THEN fw_undecodable_reject(MAP {
            'unit_code': unit_code, 'project_code': project_code, 'project_name': project_name, 'category': category,
            'office': office, 'disclosure': disclosure}) END AS bad_text_reject,
        -- the cells as read, for the reject's value
        unit_code AS unit_code_raw, project_code AS project_code_raw, fiscal_year AS fiscal_year_raw,
        start_date AS start_raw, end_date AS end_raw
    FROM src
),
checked AS (
    SELECT p.*,
        CASE
            WHEN bad_text THEN bad_text_reject
            WHEN unit_code IS NULL THEN fw_reject('missing_required', 'unit_code', unit_code_raw,
                '缺少单位编码（无单位编码列，标题行也未注明单位） / unit code missing')
            WHEN project_code IS NULL THEN fw_reject('missing_required', 'project_code', project_code_raw,
                '缺少项目编码 / project code missing')
            WHEN fiscal_year IS NULL AND fiscal_year_text IS NULL THEN fw_reject('missing_required', 'fiscal_year',
                fiscal_year_raw, '缺少年度 / fiscal year missing')
            WHEN fiscal_year IS NULL OR fiscal_year NOT BETWEEN 2000 AND year(current_date) + 1
                THEN fw_reject('unreadable_year', 'fiscal_year', fiscal_year_raw,
                    '无法识别的年度 / unreadable fiscal year: ' || fiscal_year_text)
            WHEN start_text IS NOT NULL AND start_date IS NULL THEN fw_reject('unreadable_date', 'start_date', start_raw,
                '无法识别的开工日期 / unreadable start date: ' || start_text)
            WHEN end_text IS NOT NULL AND end_date IS NULL THEN fw_reject('unreadable_date', 'end_date', end_raw,
                '无法识别的计划完工日期 / unreadable end date: ' || end_text)
        END AS reject
    FROM p
)
SELECT
    source_key, source_row,
    unit_code, unit_name, fiscal_year, project_code, project_name, category, office,
    coalesce(is_key, FALSE) AS is_key, disclosure, disclosure_text, start_date, end_date, status, goal, goal_result,
    reject.code AS reject_code, reject.field AS reject_field, reject.value AS reject_value, reject.reason AS reject_reason
FROM checked
