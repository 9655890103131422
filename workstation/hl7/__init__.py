"""HL7 v2 with the RIS over MLLP (Qt-free): messages built and parsed with hl7apy."""
