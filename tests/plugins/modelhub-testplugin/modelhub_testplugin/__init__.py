"""A plugin distribution for modelhub's tests: one good wrapper, one that fails to import."""
