"""The desk's lossless export and restore (`manage.py export`, `manage.py restore`).

One file holds everything the desk keeps: accounts' public names and roles, speakers,
topics, sources with their snapshots, claims, quotes, appearances, other
fact-checkers' reviews and the rating words, the review ledger (entries, evidence,
Merkle tree hashes) with its signed checkpoint log, and the edit history. It is
JSON Lines in a fixed, documented order (docs/export-format.md), written so that
the same data always gives the same bytes: export, restore into an empty database,
export again, and the two files are identical.

- `format`: the sections, how each value is written and read, the header and the
  trailer;
- `export`: streams the database into a file, in one consistent snapshot;
- `restore`: reads and checks a whole file (checksum, version, every record, the
  ledger's hashes, tree and checkpoints, each claim against its ledger) before
  writing anything, then writes it in one transaction.

The ledger's own rules are `claims.ledger`'s: this package only calls them.
"""
