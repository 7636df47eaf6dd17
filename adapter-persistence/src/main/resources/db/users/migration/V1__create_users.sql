-- One row per user. The version column carries optimistic concurrency: every write of a change
-- increments it and is conditional on the version read before.
create table users (
    id                uuid        primary key,
    email             text        not null,
    -- The email as compared for uniqueness, Email.canonical() computed in Java: lower() in SQL
    -- would follow the database's collation and could disagree with the in-memory repository.
    email_canonical   text        not null,
    display_name      text        not null,
    create_time       timestamptz not null,
    update_time       timestamptz not null,
    version           bigint      not null,
    -- The caller's idempotency key of the creation, so that a retried create returns the user
    -- the first attempt stored. Null when the caller sent none; deleted with its user.
    create_request_id text,
    constraint users_email_canonical_key unique (email_canonical),
    constraint users_create_request_id_key unique (create_request_id),
    constraint users_version_check check (version >= 1),
    -- Lengths and formats are the domain's to check; these only keep rows the domain could not
    -- have produced out of the table.
    constraint users_email_check check (email <> ''),
    constraint users_email_canonical_check check (email_canonical <> ''),
    constraint users_display_name_check check (display_name <> ''),
    constraint users_create_request_id_check check (create_request_id <> '')
);
