"""Root operations, one module per area; app.schema.root composes them."""
