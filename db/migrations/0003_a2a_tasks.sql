-- A merchant agent's A2A tasks (a2a-x402): a task waiting for its payment, paid, or done is kept across restarts, so
-- a shopper answering a task after the agent restarted finds it, and what it paid for is not forgotten.
CREATE TABLE netd_a2a_tasks (
  tenant      text NOT NULL,           -- the call's tenant ('' for none)
  owner       text NOT NULL,           -- who may see it (the SDK's user scope)
  task_id     text NOT NULL,
  context_id  text NOT NULL,
  state       integer NOT NULL,        -- the TaskState enum's number
  status_at   text NOT NULL,           -- the status timestamp, ISO 8601 ('' when none)
  task        jsonb NOT NULL,          -- the Task in the protocol's JSON form (Task.toJSON)
  saved_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, owner, task_id)
);
CREATE INDEX netd_a2a_tasks_listing ON netd_a2a_tasks (tenant, owner, status_at DESC, task_id DESC);
