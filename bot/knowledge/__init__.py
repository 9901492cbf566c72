"""The curated YAML files: reading them with line numbers, validating, and the bundled pack."""
