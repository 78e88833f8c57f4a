-- Generation tasks: one row per submission, one Temporal workflow each.
create table tasks (
    id              text primary key,
    workflow_id     text not null unique,
    status          text not null
                    check (status in ('pending', 'processing', 'done', 'failed', 'cancelled')),
    progress        double precision not null default 0 check (progress between 0 and 100),
    stage           text not null default 'queued',
    stage_detail    text not null default '',
    lane            text not null,
    lane_mode       text not null default '',
    model           text,
    type            text,
    mode            text,
    prompt          text,
    negative_prompt text,
    parameters      jsonb not null check (jsonb_typeof(parameters) = 'object'),
    -- Reference images stored before the workflow starts:
    -- [{"field", "key", "mime", "frame_index", "strength"}, ...]
    inputs          jsonb not null default '[]' check (jsonb_typeof(inputs) = 'array'),
    width           int,
    height          int,
    seed            bigint,
    output_format   text,
    result_key      text,
    result_mime     text,
    preview_key     text,
    error_code      text,
    error_msg       text,
    attempt         int not null default 0,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    expires_at      timestamptz
);

-- Gallery: finished tasks, newest first, optionally by model or type.
create index tasks_gallery_idx on tasks (created_at desc) where status = 'done';
create index tasks_gallery_model_idx on tasks (model, created_at desc) where status = 'done';
create index tasks_gallery_type_idx on tasks (type, created_at desc) where status = 'done';
-- Status lookups (queues, stuck tasks) and expiry sweeps.
create index tasks_status_idx on tasks (status, created_at);
create index tasks_expires_idx on tasks (expires_at) where expires_at is not null;

---- create above / drop below ----

drop table tasks;
