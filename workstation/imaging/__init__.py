"""imaging layer."""
