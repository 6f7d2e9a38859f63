"""Benchmarks: run each file with .venv/bin/python (see the Makefile target `bench`)."""
