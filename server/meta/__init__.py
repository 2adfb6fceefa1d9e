"""Server facts anyone may read: health, schema version, the report JSON Schemas, the taxonomy."""
