-- 查询申报表 at 10,000 applications: the total counts from this index alone (every
-- filter's column is in it), and the sorts by 转交时间 and 工作单位 read the first page
-- in order instead of sorting the campaign.
CREATE INDEX applications_search ON applications (campaign_id, holder_role, reached_level, recommender_unit_id, employer, name, number, field);
CREATE INDEX applications_moved ON applications (campaign_id, moved_at);
CREATE INDEX applications_employer ON applications (campaign_id, employer);
