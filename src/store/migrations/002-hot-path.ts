// Version 2: the distributed hot path (docs/PROTOCOL.md "One request per step").
// - Wake-ups to NATS are published from memory after each commit instead of through a table: a
//   lost wake-up costs at most one claim re-check, while the table cost two transactions a step.
// - noetl.apply_report records a worker's report batch in one statement (no BEGIN/COMMIT round
//   trips): it takes the execution's lock, checks that the caller decided on the latest state
//   and that every lease is still current, then writes the events, step results, new commands
//   and execution status the caller computed. When a check fails it changes nothing and says
//   so; the caller then takes the transactional path.
import { EXECUTION_LOCK } from "../sql";

const INFORMATIONAL =
  "('command.claimed', 'command.started', 'command.heartbeat', 'call.done', 'call.error')";

export default `
DROP TABLE IF EXISTS noetl.outbox;

CREATE FUNCTION noetl.apply_report(p jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_id text := p->>'execution_id';
  v_last bigint;
  v_new bigint;
  v_logged jsonb;
  r record;
BEGIN
  PERFORM pg_advisory_xact_lock(${EXECUTION_LOCK}, hashtext(v_id));
  SELECT max(event_id) INTO v_last FROM noetl.event
   WHERE execution_id = v_id AND type NOT IN ${INFORMATIONAL};
  IF coalesce(v_last, 0) <> (p->>'expect_last')::bigint THEN
    RETURN jsonb_build_object('applied', false, 'reason', 'stale');
  END IF;
  -- Row by row, by primary key: set-based forms (a join with the JSON rows, = ANY) were planned
  -- as scans of the whole command table once the cached generic plan took over.
  FOR r IN SELECT * FROM jsonb_to_recordset(p->'finish') AS x(command_id text, lease_token text, status text) LOOP
    PERFORM 1 FROM noetl.command
      WHERE command_id = r.command_id AND lease_token = r.lease_token AND status IN ('CLAIMED', 'RUNNING')
      FOR UPDATE;
    IF NOT FOUND THEN
      RETURN jsonb_build_object('applied', false, 'reason', 'lease');
    END IF;
  END LOOP;
  IF p ? 'execution' AND EXISTS (SELECT 1 FROM noetl.execution
                                  WHERE execution_id = v_id AND parent_command_id IS NOT NULL) THEN
    RETURN jsonb_build_object('applied', false, 'reason', 'parent');
  END IF;

  FOR r IN SELECT * FROM jsonb_to_recordset(p->'finish') AS x(command_id text, lease_token text, status text) LOOP
    UPDATE noetl.command SET status = r.status, lease_until = NULL, updated_at = now()
     WHERE command_id = r.command_id;
  END LOOP;

  WITH ins AS (
    INSERT INTO noetl.event (execution_id, type, step, command_id, attempt, iteration, payload)
    SELECT v_id, x->>'type', x->>'step', x->>'command_id', (x->>'attempt')::int, (x->>'iteration')::int,
           COALESCE(x->'payload', '{}'::jsonb)
      FROM jsonb_array_elements(p->'events') WITH ORDINALITY AS t(x, ord) ORDER BY ord
    ON CONFLICT (command_id, attempt, type) DO NOTHING
    RETURNING event_id, type, command_id, attempt
  )
  SELECT max(event_id) FILTER (WHERE type NOT IN ${INFORMATIONAL}),
         COALESCE(jsonb_agg(jsonb_build_array(command_id, attempt, type)) FILTER (WHERE command_id IS NOT NULL),
                  '[]'::jsonb)
    INTO v_new, v_logged FROM ins;
  v_last := COALESCE(v_new, v_last);

  INSERT INTO noetl.step_result (execution_id, step, iteration, status, data, error, started_at, ended_at)
  SELECT v_id, x.step, -1, x.status, x.data, x.error, x.started_at, x.ended_at
    FROM jsonb_to_recordset(p->'steps')
         AS x(step text, status text, data jsonb, error jsonb, started_at timestamptz, ended_at timestamptz)
  ON CONFLICT (execution_id, step, iteration) DO UPDATE SET status = EXCLUDED.status,
    data = EXCLUDED.data, error = EXCLUDED.error,
    started_at = COALESCE(noetl.step_result.started_at, EXCLUDED.started_at),
    ended_at = COALESCE(EXCLUDED.ended_at, noetl.step_result.ended_at);

  INSERT INTO noetl.command (command_id, execution_id, step, iteration, attempt, pool, payload, status,
                             worker_id, lease_token, lease_until)
  SELECT x->>'command_id', x->>'execution_id', x->>'step', (x->>'iteration')::int,
         COALESCE((x->>'attempt')::int, 1), COALESCE(x->>'pool', 'default'), x->'payload',
         COALESCE(x->>'status', 'PENDING'), x->>'worker_id', x->>'lease_token',
         now() + make_interval(secs => (x->>'lease_ms')::float8 / 1000)
    FROM jsonb_array_elements(p->'commands') WITH ORDINALITY AS t(x, ord) ORDER BY ord;

  IF p ? 'execution' THEN
    UPDATE noetl.execution SET status = p->'execution'->>'status',
           result = COALESCE(p->'execution'->'result', result),
           error = COALESCE(p->'execution'->'error', error),
           ended_at = COALESCE(ended_at, now())
     WHERE execution_id = v_id;
  END IF;
  RETURN jsonb_build_object('applied', true, 'last', v_last::text, 'logged', v_logged);
END $$;
`;
