-- Claim the next ticket for one agent, atomically (PostgreSQL).
--
-- One short statement inside a short transaction: the subquery picks the
-- ticket this agent would get next (effective priority, then oldest first,
-- see handoff/priority.py), locks it and skips rows other transactions are
-- claiming right now, so two agents never get the same ticket and nobody
-- waits on anybody. No lock outlives the transaction: a chat is not a
-- transaction.
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
    FOR UPDATE SKIP LOCKED
)
RETURNING id, conversation_id
