-- The agent's current load and capacity (SQLite; BEGIN IMMEDIATE already
-- serializes writers, so no lock clause is needed).
-- Parameters: :agent_id
SELECT (SELECT count(*) FROM tickets WHERE agent_id = a.id AND status = 'assigned') AS active, a.capacity
FROM agents a
WHERE a.id = :agent_id
