"""REST API of the households app: persons, households and the demographic figures."""
