"""Hanging protocols, without Qt: which series go into which viewport, with which priors.

protocol (schema, validation) · constraints, rules (weighted, required) · attributes, facts
(what rules test, read from the cache) · priors (same patient, relevance) · selector (display
sets) · orientation (mammograms back to back) · engine, plan (the layout plan) · service
(hang a cached study) · library (built-in and user files) · prefetch (priors from archives) ·
capture (save a layout as a protocol) · editing (the editor's draft) · dicom_hp (DICOM Hanging
Protocol objects).
"""
