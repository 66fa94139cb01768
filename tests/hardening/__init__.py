"""Hardening suite: concurrency, crashes, hostile text and files, paths, fuzzing (issue 7)."""
