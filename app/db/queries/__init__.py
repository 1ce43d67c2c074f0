"""All SQL of the application, one module per area, each function named for what it returns."""
