-- Admin sessions: an operator trades ADMIN_KEY (POST /admin/session, X-Admin-Key header) for an
-- httpOnly cookie. Only the SHA-256 of the 256-bit token is stored. The timeout is idle and
-- sliding: each use (at most once a minute) moves expires_at to now() + the idle timeout.
create table admin_sessions (
    id_hash      bytea primary key check (length(id_hash) = 32),
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    revoked_at   timestamptz,
    last_seen_at timestamptz not null default now(),
    user_agent   text not null default '',
    client_ip    text not null default ''
);

create index admin_sessions_expires_idx on admin_sessions (expires_at);

-- The admin audit log: one row per admin request, whatever its outcome. Details never hold a
-- key, a token or a cookie (the API writes only what it chose to write).
create table admin_audit (
    id         bigserial primary key,
    at         timestamptz not null default now(),
    client_ip  text not null default '',
    action     text not null,
    target     text not null default '',
    outcome    text not null check (outcome in ('success', 'refused', 'failed')),
    status     int not null default 0,
    code       text not null default '',
    request_id text not null default '',
    details    jsonb not null default '{}'
);

create index admin_audit_at_idx on admin_audit (at);
create index admin_audit_action_at_idx on admin_audit (action, at);

-- GPU worker accounts. The worker token is "<id>.<secret>"; secret_enc is the secret encrypted
-- with Fernet under ACCOUNTS_ENCRYPT_KEY (never the plaintext).
create table worker_accounts (
    id                        uuid primary key,
    label                     text not null check (length(label) between 1 and 200),
    lanes                     text[] not null,
    monthly_limit_gpu_seconds double precision not null check (monthly_limit_gpu_seconds >= 0),
    status                    text not null default 'pending'
                              check (status in ('pending', 'ready', 'failed', 'disabled')),
    status_reason             text not null default '',
    status_changed_at         timestamptz not null default now(),
    failures                  int not null default 0,
    cooldown_until            timestamptz,
    secret_enc                text not null,
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now(),
    last_seen_at              timestamptz,
    worker_info               jsonb not null default '{}'
);

-- Every status change of an account, with its reason. Kept after the account is deleted.
create table account_events (
    id          bigserial primary key,
    account_id  uuid not null,
    at          timestamptz not null default now(),
    from_status text not null,
    to_status   text not null,
    reason      text not null,
    actor       text not null
);

create index account_events_account_idx on account_events (account_id, id);

-- GPU-seconds per account per calendar month (UTC).
create table account_usage (
    account_id  uuid not null references worker_accounts (id) on delete cascade,
    month       date not null,
    gpu_seconds double precision not null default 0 check (gpu_seconds >= 0),
    primary key (account_id, month)
);

---- create above / drop below ----

drop table account_usage;
drop table account_events;
drop table worker_accounts;
drop table admin_audit;
drop table admin_sessions;
