"""The 2D reading viewer: viewports, series strip, toolbar, measurement panel."""
