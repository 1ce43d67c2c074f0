"""The payer's answers in GraphQL: importing 999, 277CA and 835 files, postings, and the work queues."""
