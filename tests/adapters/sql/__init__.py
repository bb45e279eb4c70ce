"""Tests of the SQL adapter that go beyond the persistence contract."""
