"""Telling people: ``notify`` (an email through the outbox and an in-app notice), the
notices page and its mutes, and the delivery of the outbox by the worker."""
