"""Notifications: messages to residents and volunteers, "did help arrive?", call tasks, inbound replies.

The public API for other domains is `outgoing.send(...)` (a templated message to a resident or a volunteer,
by id, in their language and channel) and `outgoing.on_transition` / `outgoing.on_request_created`, which
the request lifecycle calls.
"""
