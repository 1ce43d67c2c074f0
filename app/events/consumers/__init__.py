"""The outbox feed's consumers; app.main lists the ones a process runs."""
