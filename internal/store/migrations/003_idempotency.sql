-- Idempotent submission: the Idempotency-Key a client sent with POST /generate, the SHA-256 of
-- the canonical request body and the task it created. A separate table rather than columns on
-- tasks: a key lives 24 h while its task lives for the retention period, an expired key is
-- replaced to point at a newer task, and most tasks have no key at all. Deleting a task deletes
-- its key, so a key never points at a task that is gone (an undone submission included).
create table idempotency_keys (
    key          text primary key check (length(key) between 1 and 255),
    request_hash text not null,
    task_id      text not null references tasks (id) on delete cascade,
    created_at   timestamptz not null default now()
);

-- The cascade looks keys up by task when a task is deleted.
create index idempotency_keys_task_idx on idempotency_keys (task_id);

---- create above / drop below ----

drop table idempotency_keys;
