"""The shop's data: models, database access and the repository the actions use."""
