"""The importer: national-system exports and the template into the registry (read, spec, values, build, run)."""
