-- Gallery: finished results, one index per sort order of GET /gallery (created_at, model, width,
-- height; newest first, ties by created_at then id, all descending) and per filter (model, type),
-- so every page is an index scan that stops after offset + per_page rows instead of sorting
-- every done task. They are partial (status = 'done'), so live tasks, failures and cancellations
-- never enter them, and they include expires_at, so the "not expired" condition and the total
-- count are answered from the index alone (index-only scans). Progress updates change none of
-- these columns and stay HOT updates.
--
-- The model index serves sort=model, and model=X with any order whose leading column is
-- created_at; model=X with sort=width/height reads the model's rows in created_at order and
-- keeps the top of them (a bounded sort over one model's rows).
drop index tasks_gallery_idx;
drop index tasks_gallery_model_idx;
drop index tasks_gallery_type_idx;

create index tasks_gallery_created_idx on tasks (created_at desc, id desc)
    include (expires_at) where status = 'done';
create index tasks_gallery_model_idx on tasks (model desc, created_at desc, id desc)
    include (expires_at) where status = 'done';
create index tasks_gallery_type_idx on tasks (type, created_at desc, id desc)
    include (expires_at) where status = 'done';
create index tasks_gallery_width_idx on tasks (width desc, created_at desc, id desc)
    include (expires_at) where status = 'done';
create index tasks_gallery_height_idx on tasks (height desc, created_at desc, id desc)
    include (expires_at) where status = 'done';

---- create above / drop below ----

drop index tasks_gallery_created_idx;
drop index tasks_gallery_model_idx;
drop index tasks_gallery_type_idx;
drop index tasks_gallery_width_idx;
drop index tasks_gallery_height_idx;

create index tasks_gallery_idx on tasks (created_at desc) where status = 'done';
create index tasks_gallery_model_idx on tasks (model, created_at desc) where status = 'done';
create index tasks_gallery_type_idx on tasks (type, created_at desc) where status = 'done';
