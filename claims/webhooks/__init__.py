"""Webhooks: signed POSTs to subscribers when a verdict is recorded, corrected or withdrawn.

The review ledger is the outbox. Nothing on the verdict path knows about
webhooks: the `deliver_webhooks` worker reads the ledger's entries past each
subscription's cursor (`scan`), turns those that are events into one delivery
row per subscription and entry (`events`), and sends the due ones, signed as the
Standard Webhooks specification says (`signing`, `sending`). docs/webhooks.md
explains the design.
"""
