-- Artifact cleanup (ArtifactCleanupWorkflow): when a task's files were removed. The record keeps
-- its metadata (keys included), so GET /results of a purged task answers 410 result_file_missing.
alter table tasks add column artifacts_purged_at timestamptz;

-- The cleanup finds due tasks without walking the table: done tasks by expires_at, failed and
-- cancelled ones (which never get an expiry) by finished_at.
create index tasks_purge_expires_idx on tasks (expires_at)
    where artifacts_purged_at is null and expires_at is not null;
create index tasks_purge_finished_idx on tasks (finished_at)
    where artifacts_purged_at is null and expires_at is null and status in ('failed', 'cancelled');

---- create above / drop below ----

drop index tasks_purge_finished_idx;
drop index tasks_purge_expires_idx;
alter table tasks drop column artifacts_purged_at;
