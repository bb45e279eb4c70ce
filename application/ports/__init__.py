"""The ports: what the use cases need from the outside world, as `typing.Protocol`s.

Adapters in `adapters/` implement them; `entrypoints/container.py` chooses which.
"""
