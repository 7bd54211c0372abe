"""Provider schemas for offline checks of terraform/: extraction, checker, schema-only provider."""
