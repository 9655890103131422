"""Windows of the clinical tools: PET/CT fusion, curved MPR, segmentations (their logic is workstation.clinical)."""
