-- Serialize one agent's claims/accepts so their capacity check holds
-- (PostgreSQL). Returns the number of conversations the agent holds now.
-- Parameters: :agent_id
SELECT (SELECT count(*) FROM tickets WHERE agent_id = a.id AND status = 'assigned') AS active, a.capacity
FROM agents a
WHERE a.id = :agent_id
FOR UPDATE OF a
