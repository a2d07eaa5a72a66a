"""The importer: national-system exports and the template into the registry (read, spec, values, parse, batch,
builders, run)."""
