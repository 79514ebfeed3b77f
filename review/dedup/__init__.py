"""Deduplication: normalise (pure), block and match pairs (pure), run over a workspace (engine),
apply and undo merges (merges), and the review queue of uncertain pairs (queue)."""
