"""The PostgreSQL + pgvector gallery backend: ``store`` (the Gallery), ``connection``, ``schema``, ``search``,
and ``secret`` (database credentials from AWS Secrets Manager)."""
