-- Lanes with fallback and visible retries: why a task left its dedicated lane, and the last
-- failed attempt while the workflow retries.
alter table tasks
    add column fallback_reason text,
    add column last_error_code text,
    add column last_error_msg  text;

-- Admission to the shared lane counts the tasks waiting there.
create index tasks_shared_waiting_idx on tasks (lane_mode) where status = 'pending' and lane_mode = 'shared';

---- create above / drop below ----

drop index tasks_shared_waiting_idx;
alter table tasks
    drop column fallback_reason,
    drop column last_error_code,
    drop column last_error_msg;
