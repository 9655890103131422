"""The reading worklist: what to read next, with the order's context (Qt-free).

- :mod:`.orders` — orders from the Modality Worklist or the RIS's HL7 messages,
  kept in the index and matched to studies by accession (+ issuer) and Study UID;
- :mod:`.claims` — which reader has a study in progress;
- :mod:`.patients` — patient updates and merges from the RIS, the replaced values kept;
- :mod:`.build` — the worklist itself: filters, STAT first, then by time waiting;
- :mod:`.gather` — asking the configured archives and worklist providers (network);
- :mod:`.settings` — who reads here, which nodes answer the Modality Worklist.
"""
