-- Claim the next ticket for one agent, atomically (SQLite).
--
-- SQLite has no row locks: the service opens every transaction with
-- BEGIN IMMEDIATE (handoff/db.py), so this statement runs while this
-- connection is the only writer. Same choice and order as claim_postgres.sql.
--
-- Parameters: :agent_id, :skills (expanded list), :now (epoch seconds),
-- :rate (aging, priority points per second).
UPDATE tickets
SET status = 'assigned',
    agent_id = :agent_id,
    assigned_at = :now,
    offered_to = NULL,
    offer_expires_at = NULL,
    awaiting_agent_since = :now
WHERE id = (
    SELECT id
    FROM tickets
    WHERE status = 'queued'
      AND (skill IN :skills OR skill = 'general')
      AND (offered_to IS NULL OR offered_to = :agent_id OR offer_expires_at < :now)
    ORDER BY priority - :rate * enqueued_at DESC, enqueued_at ASC, id ASC
    LIMIT 1
)
RETURNING id, conversation_id
