"""The audit trail: one record per operation that reads or changes biometric data (:mod:`.record`), stored as
JSON Lines objects under ``FRS_AUDIT_URI`` and logged (:mod:`.trail`), listed and filtered by ``frs audit``
(:mod:`.reader`). Records name people and faces; they never hold pixels or embeddings."""
