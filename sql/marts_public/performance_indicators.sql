-- marts_public.performance_indicators: the internal mart without the indicators of 涉密
-- projects (their names would disclose the project).
SELECT b.*
FROM build.performance_indicators b
JOIN _scope s ON s.unit_code = b.unit_code AND s.fiscal_year = b.fiscal_year
WHERE b.project_code IS NULL
   OR NOT EXISTS (
        SELECT 1 FROM core.dim_project p
        WHERE p.unit_code = b.unit_code AND p.fiscal_year = b.fiscal_year
          AND p.project_code = b.project_code AND p.disclosure = '涉密')
