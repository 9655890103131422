"""hanging layer."""
