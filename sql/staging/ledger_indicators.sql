-- staging.ledger_indicators: the project ledger's 绩效指标 sheet, typed and checked.
-- Targets and actuals keep their text; the number in them (95 for `≥95%`) is what scores.
-- A direction written into the target (`≥95%`) counts when the 指标方向 column is empty.
WITH src AS (
    SELECT r.*, s.title_unit_code, s.title_unit_name, s.title_fiscal_year
    FROM raw.ledger_indicators__rows r
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
        fw_text(level1) AS level1,
        fw_text(level2) AS level2,
        fw_text(name) AS name,
        fw_text(measure_unit) AS measure_unit,
        fw_ascii(direction) AS direction_text,
        fw_ascii(target) AS target_text,
        fw_ascii(actual) AS actual_text,
        fw_number(regexp_extract(replace(fw_ascii(target), ',', ''), '(-?\d+(\.\d+)?)', 1)) AS target,
        fw_number(regexp_extract(replace(fw_ascii(actual), ',', ''), '(-?\d+(\.\d+)?)', 1)) AS actual,
        fw_number(weight) AS weight,
        fw_text(weight) AS weight_text,
        fw_number(score) AS score,  -- 得分 by hand (optional)
        fw_text(score) AS score_text,
        fw_text(note) AS note,
        contains(concat_ws('|', unit_code, project_code, level1, level2, name, target, actual), '�') AS bad_text,
        CASE WHEN bad_text THEN fw_undecodable_reject(MAP {
            'unit_code': unit_code, 'project_code': project_code, 'level1': level1, 'level2': level2, 'name': name,
            'target': target, 'actual': actual}) END AS bad_text_reject,
        -- the cells as read, for the reject's value
        unit_code AS unit_code_raw, name AS name_raw, fiscal_year AS fiscal_year_raw, weight AS weight_raw,
        score AS score_raw
    FROM src
),
d AS (
    SELECT p.*,
        CASE
            WHEN regexp_matches(coalesce(direction_text, ''), '≥|>|大于|不低于|不少于|≧|以上') THEN '≥'
            WHEN regexp_matches(coalesce(direction_text, ''), '≤|<|小于|不高于|不多于|不超过|≦|以下|以内') THEN '≤'
            WHEN regexp_matches(coalesce(direction_text, ''), '=|等于|定量|定性') THEN '='
            WHEN regexp_matches(coalesce(target_text, ''), '^(≥|>|大于|不低于|不少于|≧)') THEN '≥'
            WHEN regexp_matches(coalesce(target_text, ''), '^(≤|<|小于|不高于|不超过|≦)') THEN '≤'
            WHEN regexp_matches(coalesce(target_text, ''), '^(=)') THEN '='
            ELSE '≥'
        END AS direction
    FROM p
),
checked AS (
    SELECT d.*,
        CASE
            WHEN bad_text THEN bad_text_reject
            WHEN unit_code IS NULL THEN fw_reject('missing_required', 'unit_code', unit_code_raw,
                '缺少单位编码（无单位编码列，标题行也未注明单位） / unit code missing')
            WHEN name IS NULL THEN fw_reject('missing_required', 'name', name_raw, '缺少三级指标名称 / indicator name missing')
            WHEN fiscal_year IS NULL AND fiscal_year_text IS NULL THEN fw_reject('missing_required', 'fiscal_year',
                fiscal_year_raw, '缺少年度 / fiscal year missing')
            WHEN fiscal_year IS NULL OR fiscal_year NOT BETWEEN 2000 AND year(current_date) + 1
                THEN fw_reject('unreadable_year', 'fiscal_year', fiscal_year_raw,
                    '无法识别的年度 / unreadable fiscal year: ' || fiscal_year_text)
            WHEN weight_text IS NOT NULL AND weight IS NULL THEN fw_reject('unreadable_number', 'weight', weight_raw,
                '无法识别的分值 / unreadable weight: ' || weight_text)
            WHEN score_text IS NOT NULL AND score IS NULL THEN fw_reject('unreadable_number', 'score', score_raw,
                '无法识别的得分 / unreadable score: ' || score_text)
        END AS reject
    FROM d
)
SELECT
    source_key, source_row,
    unit_code, unit_name, fiscal_year, project_code, level1, level2, name, measure_unit, direction,
    target_text, target, actual_text, actual, weight, note, score,
    reject.code AS reject_code, reject.field AS reject_field, reject.value AS reject_value, reject.reason AS reject_reason
FROM checked
