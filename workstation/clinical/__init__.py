"""Clinical tools without Qt or VTK: SUV, segmentations, prior registration, curved MPR, filters."""
