-- Gallery: finished results, one index per sort order of GET /gallery (created_at, model, width,
-- height; all descending, ties broken by created_at then id, both descending) and per filter
-- (model, type). They are partial (status = 'done'), so live, failed and cancelled tasks never
-- enter them, and each also carries expires_at, model and type (as key or INCLUDE columns), so
-- a page's ids, the "not expired" condition, every filter and the total count are all answered
-- by index-only scans; the page then reads its few rows by primary key (store/gallery.go).
-- Without the extra columns the planner preferred tasks_status_idx plus a filter (it is
-- correlated with the insertion order), which reads every skipped row of a deep page from the
-- table. Progress updates change none of these columns and stay HOT updates.
--
-- The model index serves sort=model and model=X with sort=created_at or model; the type index
-- type=X with sort=created_at; a filter with another order reads that order's index and skips
-- the other rows inside the index.
drop index tasks_gallery_idx;
drop index tasks_gallery_model_idx;
drop index tasks_gallery_type_idx;

create index tasks_gallery_created_idx on tasks (created_at desc, id desc)
    include (expires_at, model, type) where status = 'done';
create index tasks_gallery_model_idx on tasks (model desc, created_at desc, id desc)
    include (expires_at, type) where status = 'done';
create index tasks_gallery_type_idx on tasks (type, created_at desc, id desc)
    include (expires_at, model) where status = 'done';
create index tasks_gallery_width_idx on tasks (width desc, created_at desc, id desc)
    include (expires_at, model, type) where status = 'done';
create index tasks_gallery_height_idx on tasks (height desc, created_at desc, id desc)
    include (expires_at, model, type) where status = 'done';

---- create above / drop below ----

drop index tasks_gallery_created_idx;
drop index tasks_gallery_model_idx;
drop index tasks_gallery_type_idx;
drop index tasks_gallery_width_idx;
drop index tasks_gallery_height_idx;

create index tasks_gallery_idx on tasks (created_at desc) where status = 'done';
create index tasks_gallery_model_idx on tasks (model, created_at desc) where status = 'done';
create index tasks_gallery_type_idx on tasks (type, created_at desc) where status = 'done';
