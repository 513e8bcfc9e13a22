-- marts_public.performance_indicators: the internal mart without the indicators of 涉密
-- projects (their names would disclose the project), and without any indicator whose text
-- mentions a 涉密 project's code or name (`<涉密项目名称>配套完成率` of a public project or of
-- the department): codes and names of 涉密 projects appear nowhere in public, not even
-- inside other text. Codes are compared folded (a code written ４３３０… is the same code).
WITH secret_tokens AS (
    -- every unit's and year's, so that a mention under another year or unit is caught too
    SELECT DISTINCT t.token, fw_code_fold(t.token) AS folded
    FROM core.dim_project p, unnest([p.project_code, p.project_name]) t(token)
    WHERE p.disclosure = '涉密' AND length(t.token) >= 2
),
internal AS (
    SELECT b.*,
           concat_ws('|', b.project_code, b.level1, b.level2, b.name, b.measure_unit, b.target_text, b.actual_text,
                     b.note, b.reason) AS text
    FROM build.performance_indicators b
    JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
)
SELECT i.* EXCLUDE (text)
FROM internal i
WHERE NOT EXISTS (
        SELECT 1 FROM core.dim_project p
        WHERE p.unit_code = i.unit_code AND p.fiscal_year = i.fiscal_year
          AND p.project_code = i.project_code AND p.disclosure = '涉密')
  AND NOT EXISTS (
        SELECT 1 FROM secret_tokens t
        WHERE contains(i.text, t.token) OR contains(fw_code_fold(i.text), t.folded))
