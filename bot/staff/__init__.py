"""The staff console: accounts and sessions, versioned procedure editing, imports,
publishing the index without a restart, and the review queues."""
