"""The demo generator: a fictional county (or province) with geometry, names and a registry to match."""
