-- 查询申报表 at 10,000 applications: totals count from a narrow index (scope and 当前步骤)
-- or a covering one (every text filter's column is in it) instead of the wide rows, and
-- the sorts by 转交时间 and 工作单位 read the first page in order instead of sorting.
CREATE INDEX applications_step ON applications (campaign_id, holder_role, reached_level);
CREATE INDEX applications_search ON applications (campaign_id, reached_level, name, number, employer, field, recommender_unit_id, holder_role);
CREATE INDEX applications_moved ON applications (campaign_id, moved_at);
CREATE INDEX applications_employer ON applications (campaign_id, employer);
