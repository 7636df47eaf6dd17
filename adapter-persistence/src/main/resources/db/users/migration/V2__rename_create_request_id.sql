-- The creation's idempotency key was called create_request_id, a name it shared with the
-- x-request-id correlation id of calls. One concept, one name: it is the idempotency key.
alter table users rename column create_request_id to idempotency_key;
alter table users rename constraint users_create_request_id_key to users_idempotency_key_key;
alter table users rename constraint users_create_request_id_check to users_idempotency_key_check;
