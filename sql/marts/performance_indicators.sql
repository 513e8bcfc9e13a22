-- marts.performance_indicators: targets against actuals with completion and score
-- (domain.md). Weight is the ledger's 分值; when a level (产出/效益/满意度) of a unit's
-- department set or of one project has no 分值 at all, the level's default points (rules
-- file) are shared equally among its indicators.
-- score: ≥ -> w * min(actual / target, cap); ≤ -> w if actual <= target else w * target / actual;
--        = -> w * max(0, 1 - |actual - target| / target). cap is the rules file's
-- [scoring] completion_cap (default 1: over-achievement earns no more than full marks,
-- 财预〔2020〕10号 附件: 得分不超过该指标分值).
-- An indicator whose target or actual has no number (qualitative) takes the score entered
-- by hand in the ledger's 得分 column (at most its weight; contract 2.3, added 2026-11-29),
-- or stays unscored with the reason.
WITH i AS (
    SELECT f.*,
        count(*) OVER level_group AS level_size,
        count(f.weight) OVER level_group AS level_weighted,
        CASE
            WHEN contains(f.level1, '产出') THEN (SELECT value FROM _rules WHERE key = 'points.产出指标')
            WHEN contains(f.level1, '效益') THEN (SELECT value FROM _rules WHERE key = 'points.效益指标')
            WHEN contains(f.level1, '满意') THEN (SELECT value FROM _rules WHERE key = 'points.满意度指标')
            ELSE 0
        END AS level_points
    FROM core.fact_indicators f
    JOIN _scope s ON s.unit_code = f.unit_code AND s.fiscal_year = f.fiscal_year
    WINDOW level_group AS (PARTITION BY f.unit_code, f.fiscal_year, f.project_code, f.level1)
),
w AS (
    SELECT i.*,
        CASE WHEN level_weighted = 0 THEN level_points / level_size ELSE coalesce(weight, 0) END AS weight_used
    FROM i
)
SELECT
    w.fiscal_year, w.unit_code, u.unit_name, w.project_code, w.level1, w.level2, w.name, w.measure_unit, w.direction,
    w.target, w.actual,
    CASE WHEN w.target IS NOT NULL AND w.target <> 0 THEN w.actual / w.target END AS completion_rate,
    w.weight_used AS weight,
    CASE
        WHEN w.target IS NULL OR w.actual IS NULL THEN
            CASE WHEN w.hand_score IS NOT NULL THEN least(greatest(w.hand_score, 0), w.weight_used) END
        WHEN w.direction = '≥' THEN
            CASE WHEN w.target <= 0 THEN CASE WHEN w.actual >= w.target THEN w.weight_used ELSE 0 END
                 ELSE w.weight_used * greatest(0, least(w.actual / w.target,
                     coalesce((SELECT value FROM _rules WHERE key = 'scoring.completion_cap'), 1))) END
        WHEN w.direction = '≤' THEN
            CASE WHEN w.actual <= w.target THEN w.weight_used
                 WHEN w.actual <= 0 OR w.target < 0 THEN 0
                 ELSE w.weight_used * w.target / w.actual END
        ELSE
            CASE WHEN w.target = 0 THEN CASE WHEN w.actual = 0 THEN w.weight_used ELSE 0 END
                 ELSE w.weight_used * greatest(0, 1 - abs(w.actual - w.target) / abs(w.target)) END
    END AS score,
    w.target_text, w.actual_text, w.note,
    w.weight IS NOT NULL AS weight_from_ledger,
    CASE WHEN (w.target IS NULL OR w.actual IS NULL) AND w.hand_score IS NOT NULL
             THEN '定性指标，得分取自台账“得分”列 / qualitative: the score entered in the ledger'
         WHEN w.target IS NULL OR w.actual IS NULL
             THEN '指标值或完成值不是数值，需人工评分（在台账“绩效指标”表“得分”列填写） / target or actual is not a number: enter a score in the ledger''s 得分 column'
         WHEN w.weight IS NULL AND w.level_weighted > 0
             THEN '台账未给分值而同级其他指标有分值，按0分计 / no weight while others of its level have one: counted as 0'
         WHEN w.target = 0
             THEN '年度指标值为0，不计算完成率（得分按指标方向） / target is 0: no completion rate (scored by its direction)'
    END AS reason
FROM w
JOIN core.dim_unit_year u ON u.unit_code = w.unit_code AND u.fiscal_year = w.fiscal_year
