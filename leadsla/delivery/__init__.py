"""Delivery: the outbox, channels, noise control and CRM write-back.

``enqueue`` writes messages inside the tick's decision transaction; ``deliver`` sends what is
due afterwards and records every outcome as an event. See docs/delivery.md.
"""
