"""The HTTP side of acd117 (aiohttp): health, metrics, the JSON API and the wallboard."""
