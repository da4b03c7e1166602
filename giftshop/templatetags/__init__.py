"""Template tags of every page, registered by name in settings.TEMPLATES (`libraries`): `points`, `web`."""
