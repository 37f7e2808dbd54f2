"""The review ledger's own room: every rule of the ledger lives here.

- `verifier`: the formulas (canonical JSON, entry and body hashes, RFC 6962
  Merkle trees and proofs, C2SP signed-note checkpoints), standard library
  and `cryptography` only, so the same file is the standalone verifier
  anyone can download and run against the public export.
- `entries`: what an entry commits to, and appending one (the only writer).
- `tree`: the Merkle tree's stored hashes, roots and proofs.
- `checkpoints`: signing checkpoints with a key the database never holds,
  and the checkpoint log kept outside the database.
- `verification`: re-walking the whole ledger against its hashes, its tree
  and every checkpoint.
- `export`: the public and the desk's JSON Lines exports.
- `database`: the database roles' privileges on the ledger tables.

The services (`claims.services`), the admin, the pages, the API and the
management commands call these; none of them hashes, appends or verifies
on its own. Nothing is imported here, so `verifier` stays importable
without Django.
"""
