// Version 1 of schema `noetl`. Never edit a released migration; add the next one.
import { EXECUTION_LOCK } from "../sql";

export default `
CREATE TABLE noetl.catalog (
  catalog_id   bigserial PRIMARY KEY,
  path         text NOT NULL,
  version      integer NOT NULL CHECK (version > 0),
  kind         text NOT NULL,
  description  text,
  content      text NOT NULL,
  doc          jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (path, version)
);

CREATE TABLE noetl.execution (
  execution_id        text PRIMARY KEY,
  seq                 bigserial UNIQUE,
  catalog_id          bigint REFERENCES noetl.catalog (catalog_id),
  path                text,
  version             integer,
  parent_execution_id text,
  -- The parent's command waiting for this execution (sub-playbooks run by the server).
  parent_command_id   text,
  status              text NOT NULL CHECK (status IN ('PENDING','RUNNING','COMPLETED','FAILED','CANCELLED')),
  workload            jsonb,
  result              jsonb,
  error               jsonb,
  started_at          timestamptz NOT NULL DEFAULT now(),
  ended_at            timestamptz
);
CREATE INDEX execution_status_seq ON noetl.execution (status, seq);
CREATE INDEX execution_parent ON noetl.execution (parent_execution_id) WHERE parent_execution_id IS NOT NULL;
CREATE INDEX execution_parent_command ON noetl.execution (parent_command_id) WHERE parent_command_id IS NOT NULL;

CREATE TABLE noetl.event (
  event_id     bigserial PRIMARY KEY,
  execution_id text NOT NULL,
  type         text NOT NULL,
  step         text,
  command_id   text,
  attempt      integer,
  iteration    integer,
  payload      jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- NULLs are distinct, so only command reports are deduplicated: a repeated batch is a no-op.
  UNIQUE (command_id, attempt, type)
);
CREATE INDEX event_execution ON noetl.event (execution_id, event_id);

CREATE TABLE noetl.step_result (
  execution_id text NOT NULL,
  step         text NOT NULL,
  iteration    integer NOT NULL DEFAULT -1,
  status       text NOT NULL,
  data         jsonb,
  error        jsonb,
  started_at   timestamptz,
  ended_at     timestamptz,
  PRIMARY KEY (execution_id, step, iteration)
);

CREATE TABLE noetl.command (
  -- Made by the engine (<execution_id>.<n>), so a report names its execution.
  command_id   text PRIMARY KEY,
  seq          bigserial UNIQUE,
  execution_id text NOT NULL,
  step         text NOT NULL,
  iteration    integer,
  attempt      integer NOT NULL DEFAULT 1,
  status       text NOT NULL DEFAULT 'PENDING'
               CHECK (status IN ('PENDING','CLAIMED','RUNNING','COMPLETED','FAILED','CANCELLED')),
  pool         text NOT NULL DEFAULT 'default',
  -- The whole command as the engine issued it: tasks, input, render context.
  payload      jsonb NOT NULL,
  worker_id    text,
  lease_token  text,
  lease_until  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX command_pending ON noetl.command (pool, seq) WHERE status = 'PENDING';
CREATE INDEX command_leased ON noetl.command (lease_until) WHERE status IN ('CLAIMED','RUNNING');
CREATE INDEX command_execution ON noetl.command (execution_id);

CREATE TABLE noetl.outbox (
  id           bigserial PRIMARY KEY,
  subject      text NOT NULL,
  payload      jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_unpublished ON noetl.outbox (id) WHERE published_at IS NULL;

CREATE TABLE noetl.credential (
  name        text PRIMARY KEY,
  type        text NOT NULL,
  description text,
  ciphertext  bytea NOT NULL,
  iv          bytea NOT NULL,
  tag         bytea NOT NULL,
  meta        jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE noetl.worker (
  worker_id    text PRIMARY KEY,
  pool         text NOT NULL DEFAULT 'default',
  host         text,
  pid          integer,
  concurrency  integer,
  status       text NOT NULL DEFAULT 'ready',
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz NOT NULL DEFAULT now()
);

-- Takes an execution's transaction lock and answers the id of its last event that the engine
-- folds (claims, starts and tool calls are left out): one round trip instead of two, and the
-- read is certain to happen after the lock is held.
CREATE FUNCTION noetl.lock_execution(p_execution_id text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(${EXECUTION_LOCK}, hashtext(p_execution_id));
  RETURN (SELECT max(event_id) FROM noetl.event
           WHERE execution_id = p_execution_id
             AND type NOT IN ('command.claimed', 'command.started', 'command.heartbeat', 'call.done', 'call.error'));
END $$;
`;
