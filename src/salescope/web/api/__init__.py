"""The REST API; every version lives in its own package."""
