"""The NeXus/HDF5 writer, a peer of the Redis publisher.

Layer: beside ``data`` (neither imports the other); see docs/architecture.md.
"""
