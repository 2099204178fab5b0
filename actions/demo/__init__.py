"""The demo shop: a deterministic generator and its usage guides."""
