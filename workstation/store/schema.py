"""The index's SQL schema as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied.  A database
made by an earlier Lightbox is brought forward when opened; a database from a
newer Lightbox (higher version) is refused rather than misread.
"""

from __future__ import annotations

# Version 1: the first released layout.
_V1 = """
CREATE TABLE patients (
    pk INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL DEFAULT '',
    issuer TEXT NOT NULL DEFAULT '',
    -- when Patient ID is empty, name and birth date tell patients apart
    key_extra TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    birth_date TEXT NOT NULL DEFAULT '',
    sex TEXT NOT NULL DEFAULT '',
    UNIQUE (patient_id, issuer, key_extra)
);
CREATE TABLE studies (
    pk INTEGER PRIMARY KEY,
    patient_pk INTEGER NOT NULL REFERENCES patients(pk),
    study_uid TEXT NOT NULL UNIQUE,
    study_date TEXT NOT NULL DEFAULT '',
    study_time TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    accession TEXT NOT NULL DEFAULT '',
    study_id TEXT NOT NULL DEFAULT '',
    referring_physician TEXT NOT NULL DEFAULT '',
    institution TEXT NOT NULL DEFAULT '',
    modalities TEXT NOT NULL DEFAULT '',
    body_parts TEXT NOT NULL DEFAULT '',
    num_series INTEGER NOT NULL DEFAULT 0,
    num_instances INTEGER NOT NULL DEFAULT 0,
    last_opened TEXT,
    pinned INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
CREATE TABLE series (
    pk INTEGER PRIMARY KEY,
    study_pk INTEGER NOT NULL REFERENCES studies(pk) ON DELETE CASCADE,
    series_uid TEXT NOT NULL UNIQUE,
    series_number INTEGER,
    description TEXT NOT NULL DEFAULT '',
    modality TEXT NOT NULL DEFAULT '',
    body_part TEXT NOT NULL DEFAULT '',
    laterality TEXT NOT NULL DEFAULT '',
    frame_of_reference_uid TEXT NOT NULL DEFAULT '',
    protocol_name TEXT NOT NULL DEFAULT '',
    contrast_bolus_agent TEXT NOT NULL DEFAULT '',
    series_date TEXT NOT NULL DEFAULT '',
    series_time TEXT NOT NULL DEFAULT '',
    num_instances INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE instances (
    pk INTEGER PRIMARY KEY,
    series_pk INTEGER NOT NULL REFERENCES series(pk) ON DELETE CASCADE,
    sop_instance_uid TEXT NOT NULL UNIQUE,
    sop_class_uid TEXT NOT NULL DEFAULT '',
    instance_number INTEGER,
    transfer_syntax_uid TEXT NOT NULL DEFAULT '',
    rows INTEGER,
    columns INTEGER,
    number_of_frames INTEGER NOT NULL DEFAULT 1,
    image_position TEXT NOT NULL DEFAULT '',
    image_orientation TEXT NOT NULL DEFAULT '',
    pixel_spacing TEXT NOT NULL DEFAULT '',
    slice_thickness REAL,
    acquisition_time TEXT NOT NULL DEFAULT '',
    image_type TEXT NOT NULL DEFAULT '',
    view_position TEXT NOT NULL DEFAULT '',
    image_laterality TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    patient_name TEXT NOT NULL DEFAULT '',
    file_path TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    file_hash TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source_ae TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX instances_series ON instances(series_pk);
CREATE INDEX series_study ON series(study_pk);
CREATE INDEX studies_patient ON studies(patient_pk);
CREATE INDEX studies_date ON studies(study_date);
"""

# Version 2: what volume reading needs without opening files, conflicts kept
# aside, and a flag for studies whose instances name more than one patient.
_V2 = """
ALTER TABLE instances ADD COLUMN bits_allocated INTEGER;
ALTER TABLE instances ADD COLUMN pixel_representation INTEGER;
ALTER TABLE instances ADD COLUMN samples_per_pixel INTEGER;
ALTER TABLE instances ADD COLUMN photometric_interpretation TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN rescale_slope REAL;
ALTER TABLE instances ADD COLUMN rescale_intercept REAL;
ALTER TABLE instances ADD COLUMN pixel_data_offset INTEGER;
ALTER TABLE studies ADD COLUMN mixed_patients INTEGER NOT NULL DEFAULT 0;
ALTER TABLE studies ADD COLUMN size_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE studies SET size_bytes = coalesce((SELECT sum(i.file_size) FROM instances i JOIN series se
    ON i.series_pk = se.pk WHERE se.study_pk = studies.pk), 0);
CREATE TABLE conflicts (
    pk INTEGER PRIMARY KEY,
    sop_instance_uid TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL,
    file_path TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    file_hash TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    UNIQUE (sop_instance_uid, file_hash)
);
CREATE INDEX studies_last_opened ON studies(last_opened);
-- Studies something still needs (open in a viewer, a report draft, an unsent
-- object): eviction never touches them.
CREATE TABLE study_holds (
    study_uid TEXT NOT NULL,
    holder TEXT NOT NULL,
    since TEXT NOT NULL,
    PRIMARY KEY (study_uid, holder)
);
"""

# Version 3: reporting.  Drafts are saved here on every change (a crash loses
# nothing committed); reports Lightbox wrote, with their lifecycle state; and
# the outbox, filled in the same transaction that stores a signed report, so
# nothing is sent that is not stored and nothing stored is forgotten.
_V3 = """
CREATE TABLE report_drafts (
    draft_id TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL,
    template_id TEXT NOT NULL,
    content TEXT NOT NULL,
    predecessor_uid TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX report_drafts_study ON report_drafts(study_uid);
CREATE TABLE reports (
    sop_instance_uid TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL,
    state TEXT NOT NULL,
    template_id TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    observer TEXT NOT NULL DEFAULT '',
    predecessor_uid TEXT NOT NULL DEFAULT '',
    amendment_reason TEXT NOT NULL DEFAULT '',
    signed INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
CREATE INDEX reports_study ON reports(study_uid);
CREATE TABLE outbox (
    pk INTEGER PRIMARY KEY,
    sop_instance_uid TEXT NOT NULL,
    sop_class_uid TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    destination TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    transaction_uid TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (sop_instance_uid, destination)
);
CREATE INDEX outbox_state ON outbox(state, next_attempt);
"""

# Version 4: technologist QC.  The "QC done" mark per study; rejection notes
# read once (Lightbox's and those received from archives) and the instances
# each rejects, so hiding rejected instances costs one query; and an audit of
# the corrections, splits, merges and rejections made here (who, when, why).
_V4 = """
CREATE TABLE qc_marks (
    study_uid TEXT PRIMARY KEY,
    operator TEXT NOT NULL DEFAULT '',
    marked_at TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT ''
);
CREATE TABLE qc_notes (
    note_uid TEXT PRIMARY KEY,
    study_uid TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    is_rejection INTEGER NOT NULL,
    title_code TEXT NOT NULL DEFAULT '',
    title_scheme TEXT NOT NULL DEFAULT '',
    title_meaning TEXT NOT NULL DEFAULT '',
    read_at TEXT NOT NULL
);
CREATE INDEX qc_notes_study ON qc_notes(study_uid);
CREATE TABLE qc_rejections (
    note_uid TEXT NOT NULL REFERENCES qc_notes(note_uid) ON DELETE CASCADE,
    sop_instance_uid TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    series_uid TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (note_uid, sop_instance_uid)
);
CREATE INDEX qc_rejections_study ON qc_rejections(study_uid);
CREATE INDEX qc_rejections_sop ON qc_rejections(sop_instance_uid);
CREATE TABLE qc_audit (
    pk INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    study_uid TEXT NOT NULL,
    operator TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE INDEX qc_audit_study ON qc_audit(study_uid);
"""

# Version 5: the reading worklist and the RIS.  Orders (from the Modality
# Worklist or HL7 order messages) matched to studies by accession (+ issuer)
# and Study Instance UID; which reader has a study in progress; every change
# an HL7 patient update or merge made, with the value it replaced (nothing is
# lost: a merge moves studies, it deletes no patient); and the HL7 message of
# each outbox item sent to a RIS (built once, so every retry sends the same).
_V5 = """
CREATE TABLE orders (
    pk INTEGER PRIMARY KEY,
    accession TEXT NOT NULL DEFAULT '',
    accession_issuer TEXT NOT NULL DEFAULT '',
    study_uid TEXT NOT NULL DEFAULT '',
    patient_id TEXT NOT NULL DEFAULT '',
    patient_issuer TEXT NOT NULL DEFAULT '',
    patient_name TEXT NOT NULL DEFAULT '',
    birth_date TEXT NOT NULL DEFAULT '',
    sex TEXT NOT NULL DEFAULT '',
    requested_procedure TEXT NOT NULL DEFAULT '',
    procedure_code TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    clinical_history TEXT NOT NULL DEFAULT '',
    referring_physician TEXT NOT NULL DEFAULT '',
    priority TEXT NOT NULL DEFAULT '',
    modality TEXT NOT NULL DEFAULT '',
    body_part TEXT NOT NULL DEFAULT '',
    scheduled TEXT NOT NULL DEFAULT '',
    placer_order TEXT NOT NULL DEFAULT '',
    filler_order TEXT NOT NULL DEFAULT '',
    order_status TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    received TEXT NOT NULL,
    updated TEXT NOT NULL,
    UNIQUE (accession, accession_issuer)
);
CREATE INDEX orders_study ON orders(study_uid);
CREATE TABLE reading_claims (
    study_uid TEXT PRIMARY KEY,
    reader TEXT NOT NULL DEFAULT '',
    reader_id TEXT NOT NULL DEFAULT '',
    since TEXT NOT NULL
);
CREATE TABLE patient_changes (
    pk INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    patient_id TEXT NOT NULL DEFAULT '',
    issuer TEXT NOT NULL DEFAULT '',
    study_uid TEXT NOT NULL DEFAULT '',
    field TEXT NOT NULL DEFAULT '',
    old_value TEXT NOT NULL DEFAULT '',
    new_value TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE INDEX patient_changes_patient ON patient_changes(patient_id);
CREATE TABLE hl7_outbound (
    outbox_pk INTEGER PRIMARY KEY REFERENCES outbox(pk) ON DELETE CASCADE,
    control_id TEXT NOT NULL,
    message TEXT NOT NULL,
    ack_code TEXT NOT NULL DEFAULT '',
    ack_text TEXT NOT NULL DEFAULT ''
);
"""

# Version 6: reading status shared with colleagues.  A reading claim says what
# the study's reading is (in progress, preliminary, final, amended) and where
# that was learnt: "local" (opened here; lapses after a while) or "ris" (an
# order status or result message from the RIS; kept until the RIS says
# otherwise).  A claim the RIS made for an order whose study is not known yet
# is keyed "accession:<number>" instead of a Study Instance UID.
_V6 = """
ALTER TABLE reading_claims ADD COLUMN status TEXT NOT NULL DEFAULT 'in progress';
ALTER TABLE reading_claims ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
"""

# Version 7: a merge is looked up by the Patient ID it moved studies away from
# (every study arriving under a merged-away ID asks, see store/merges.py); without
# this index each ask scanned every recorded change.  Opening a study asks its
# recorded changes by Study UID (worklist/patients.recorded_identity), indexed too.
_V7 = """
CREATE INDEX patient_changes_old_value ON patient_changes(old_value, field, action);
CREATE INDEX patient_changes_study ON patient_changes(study_uid);
"""

MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7]
SCHEMA_VERSION = len(MIGRATIONS)
