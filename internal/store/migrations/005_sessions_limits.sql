-- Browser sessions: a client that holds the API key trades it (POST /auth/session) for an
-- httpOnly cookie. Only the SHA-256 of the 256-bit token is stored, so a leaked table does not
-- let anyone in. Rows are kept after expiry and revocation (for 401 session_expired /
-- session_revoked) until the purge removes them.
create table sessions (
    id_hash      bytea primary key check (length(id_hash) = 32),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    revoked_at   timestamptz,
    last_seen_at timestamptz not null default now(),
    user_agent   text not null default '',
    client_ip    text not null default ''
);

create index sessions_expires_idx on sessions (expires_at);

-- Request rate limits shared by every API replica: one row per (scope, client) holding the
-- GCRA "theoretical arrival time". A request is allowed when moving tat one emission interval
-- ahead keeps it within the burst window of now(); the database clock is the one clock.
create table rate_limits (
    scope     text not null,
    client_id text not null,
    tat       timestamptz not null,
    primary key (scope, client_id)
);

create index rate_limits_tat_idx on rate_limits (tat);

-- Who submitted a task (an API key's or a session's client id), for the per-client limit on
-- live tasks. Null for tasks created before this migration.
alter table tasks add column client_id text;

create index tasks_client_live_idx on tasks (client_id) where status in ('pending', 'processing');

---- create above / drop below ----

drop index tasks_client_live_idx;
alter table tasks drop column client_id;
drop table rate_limits;
drop table sessions;
