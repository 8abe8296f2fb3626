"""Mail: an outbox written in the caller's transaction, backends, and a dispatcher."""
