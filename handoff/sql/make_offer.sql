-- Offer a queued ticket to one agent, unless someone else holds a live offer.
-- Parameters: :ticket_id, :agent_id, :now, :expires_at
UPDATE tickets
SET offered_to = :agent_id,
    offer_expires_at = :expires_at
WHERE id = :ticket_id
  AND status = 'queued'
  AND (offered_to IS NULL OR offer_expires_at < :now)
RETURNING id
