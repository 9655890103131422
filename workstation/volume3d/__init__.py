"""volume3d layer."""
