-- Accept an offer: succeeds only for the agent it was offered to, while the
-- offer is live and the ticket still queued (same text on both databases;
-- the row update itself is atomic).
-- Parameters: :ticket_id, :agent_id, :now
UPDATE tickets
SET status = 'assigned',
    agent_id = :agent_id,
    assigned_at = :now,
    offered_to = NULL,
    offer_expires_at = NULL,
    awaiting_agent_since = :now
WHERE id = :ticket_id
  AND status = 'queued'
  AND offered_to = :agent_id
  AND offer_expires_at >= :now
RETURNING id, conversation_id
