-- core.dim_project: every project of a unit and year that the ledger, the budget or the
-- vouchers name. Name, category, office and key flag come from that year's ledger only
-- (NULL when the ledger lacks the project). Disclosure is that year's ledger's, else the
-- latest the unit's ledgers ever said of the code: a project once 涉密 stays undisclosed
-- rather than leak because one year's ledger forgot it.
WITH ledger AS (
    SELECT l.unit_code, l.fiscal_year, l.project_code,
           arg_max(l.project_name, l.source_row) AS project_name,
           arg_max(l.category, l.source_row) AS category,
           arg_max(l.office, l.source_row) AS office,
           arg_max(l.is_key, l.source_row) AS is_key,
           max(l.disclosure) AS disclosure,   -- '涉密' sorts after '公开': any 涉密 row wins
           arg_max(l.status, l.source_row) AS status,
           count(*) AS ledger_rows
    FROM staging.ledger_projects l
    JOIN meta.slices a
      ON a.source_id = l.source_id AND a.unit_code = l.unit_code AND a.fiscal_year = l.fiscal_year AND a.status = 'active'
    WHERE l.reject_code IS NULL
    GROUP BY ALL
),
named AS (
    SELECT unit_code, fiscal_year, project_code FROM ledger
    UNION
    SELECT unit_code, fiscal_year, project_code FROM core.fact_budget WHERE project_code IS NOT NULL
    UNION
    SELECT unit_code, fiscal_year, project_code FROM core.fact_spending WHERE project_code IS NOT NULL
),
ever AS (
    SELECT unit_code, project_code, arg_max(disclosure, fiscal_year) AS disclosure,
           bool_or(disclosure = '涉密') AS ever_secret
    FROM ledger GROUP BY ALL
)
SELECT
    n.unit_code, n.fiscal_year, n.project_code,
    l.project_name, l.category, l.office, l.is_key,
    CASE WHEN coalesce(l.disclosure, e.disclosure) = '涉密' OR e.ever_secret AND l.disclosure IS NULL THEN '涉密'
         ELSE coalesce(l.disclosure, e.disclosure) END AS disclosure,
    l.status,
    l.project_code IS NOT NULL AS in_ledger,
    coalesce(l.ledger_rows, 0) AS ledger_rows
FROM named n
JOIN _scope s ON s.unit_code = n.unit_code AND s.fiscal_year = n.fiscal_year
LEFT JOIN ledger l ON l.unit_code = n.unit_code AND l.fiscal_year = n.fiscal_year AND l.project_code = n.project_code
LEFT JOIN ever e ON e.unit_code = n.unit_code AND e.project_code = n.project_code
