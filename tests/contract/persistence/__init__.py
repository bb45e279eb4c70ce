"""Persistence contract: every UnitOfWork/repository adapter against the same suites."""
