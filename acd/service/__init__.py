"""The service layer: the switchboard, task supervision, settings, users, the read model."""
