"""Benchmarks: the synthetic ledger generator and the HTTP benchmark (`manage.py bench`)."""
