"""News to those who asked: subscribing with a signature, unsubscribing in one click, and the
updates organisers write per language and send through the outbox."""
