-- marts_public.spending_by_project: the internal mart with every 涉密 project folded into
-- one row per unit and year (project_code UNDISCLOSED, name 涉密项目（不予公开）, category,
-- office and key flag empty, amounts summed, the rate computed on the sums). Totals still
-- add up; nothing of a 涉密 project's code, name, category or office is published.
-- A public project whose code, name, category or office mentions a 涉密 project's code or
-- name (codes compared folded: ４３３０… is 4330…) is folded in too: a secret name must
-- not be published even inside other text.
WITH secret_tokens AS (
    SELECT DISTINCT t.token, fw_code_fold(t.token) AS folded
    FROM core.dim_project p, unnest([p.project_code, p.project_name]) t(token)
    WHERE p.disclosure = '涉密' AND length(t.token) >= 2
),
scoped AS (
    SELECT b.*, concat_ws('|', b.project_code, b.project_name, b.category, b.office) AS text
    FROM build.spending_by_project b
    JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
),
internal AS (  -- the internal mart's columns in its order, a mention of a secret made 涉密
    SELECT * EXCLUDE (text) REPLACE (
        CASE WHEN disclosure = '涉密' OR EXISTS (
                 SELECT 1 FROM secret_tokens t
                 WHERE contains(scoped.text, t.token) OR contains(fw_code_fold(scoped.text), t.folded))
             THEN '涉密' ELSE disclosure END AS disclosure)
    FROM scoped
),
undisclosed AS (
    SELECT fiscal_year, unit_code, any_value(unit_name) AS unit_name,
           sum(budget_initial_yuan)::DECIMAL(18, 2) AS budget_initial_yuan,
           sum(budget_final_yuan)::DECIMAL(18, 2) AS budget_final_yuan,
           sum(spent_yuan)::DECIMAL(18, 2) AS spent_yuan
    FROM internal WHERE disclosure = '涉密' GROUP BY ALL
)
SELECT * FROM internal WHERE disclosure IS DISTINCT FROM '涉密'
UNION ALL BY NAME
SELECT
    fiscal_year, unit_code, unit_name, 'UNDISCLOSED' AS project_code, '涉密项目（不予公开）' AS project_name,
    NULL::VARCHAR AS category, NULL::VARCHAR AS office, NULL::BOOLEAN AS is_key, '涉密' AS disclosure,
    budget_initial_yuan, budget_final_yuan, spent_yuan,
    CASE WHEN budget_final_yuan <> 0 THEN spent_yuan::DOUBLE / budget_final_yuan::DOUBLE END AS execution_rate,
    CASE WHEN budget_final_yuan = 0 THEN '全年预算数为0，不计算执行率 / no final budget' END AS reason
FROM undisclosed
