"""Importing other fact-checkers' work: parsers per format, one loader (docs/imports.md)."""
