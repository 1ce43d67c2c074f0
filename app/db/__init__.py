"""Storage: models, migrations, engine and query functions. SQL lives here."""
