"""DICOM headers of the demo series, module by module (PS3.3 names).

:func:`series_dataset` builds the attributes shared by every instance of a
series (Patient, General Study, General Series, General Equipment and the
modality's image modules); :func:`set_instance` fills the per-instance ones
(SOP Instance UID, Instance Number, position, times) on that same dataset so a
series of 200 slices is written without rebuilding its header.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID, ExplicitVRLittleEndian

from workstation.demo.head_phantom import MR_WINDOWS
from workstation.demo.pet_phantom import pet_header
from workstation.demo.plan import DEMO_VERSION, INSTITUTION, MANUFACTURER, SeriesPlan

_CT_WINDOWS = {
    "STANDARD": [(40, 400, "SOFT TISSUE"), (-600, 1500, "LUNG"), (400, 1800, "BONE")],
    "LUNG": [(-600, 1500, "LUNG"), (40, 400, "MEDIASTINUM"), (-500, 2000, "WIDE")],
}
_DX_WINDOWS = [(2000, 3600, "NORMAL"), (2300, 2400, "CONTRAST")]
_MG_WINDOWS = [(2000, 3400, "NORMAL"), (2300, 2200, "DENSE")]

# (TR ms, TE ms, TI ms or None, echo train, flip, scanning sequence, variant, sequence name)
_MR_PROTOCOLS = {
    "T1": (520.0, 12.0, None, 1, 90.0, "SE", "NONE", "*se2d1"),
    "T2": (4500.0, 96.0, None, 15, 150.0, "SE", "SK\\SP", "*tse2d1_15"),
    "FLAIR": (9000.0, 88.0, 2500.0, 21, 150.0, "SE\\IR", "SK\\SP\\MP", "*tir2d1_21"),
}


# SNOMED CT codes of CID 4031 (anatomic region), CID 4010 (DX view), CID 4014 (mammography view).
_CHEST = ("43799004", "Chest")
_BREAST = ("76752008", "Breast")
_VIEWS = {
    "PA": ("272479007", "postero-anterior"),
    "LL": ("399173006", "left lateral"),
    "CC": ("399162004", "cranio-caudal"),
    "MLO": ("399368009", "medio-lateral oblique"),
}


def _code(value_meaning: tuple[str, str]) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodeMeaning = value_meaning
    item.CodingSchemeDesignator = "SCT"
    return item


def _age(birth: str, on: str) -> str:
    years = int(on[:4]) - int(birth[:4]) - ((on[4:8]) < (birth[4:8]))
    return f"{years:03d}Y"


def _windows(ds: Dataset, windows: Sequence[tuple[float, float, str]]) -> None:
    """VOI LUT module: several windows, the first is the default."""
    ds.WindowCenter = [c for c, _, _ in windows]
    ds.WindowWidth = [w for _, w, _ in windows]
    ds.WindowCenterWidthExplanation = [e for _, _, e in windows]


def series_dataset(series: SeriesPlan) -> Dataset:
    """The attributes shared by all instances of ``series``."""
    study, patient = series.study, series.study.patient
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = UID(series.sop_class_uid)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta.ImplementationVersionName = "LIGHTBOX_DEMO"

    # SOP Common
    if patient.character_set:
        ds.SpecificCharacterSet = patient.character_set
    ds.SOPClassUID = series.sop_class_uid
    ds.InstanceCreationDate = study.date
    ds.InstanceCreationTime = series.time

    # Patient
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = patient.issuer
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    # Patient Study
    ds.PatientAge = _age(patient.birth_date, study.date)

    # General Study
    ds.StudyInstanceUID = study.uid
    ds.StudyDate = study.date
    ds.StudyTime = study.time
    ds.ReferringPhysicianName = study.referring_physician
    ds.StudyID = study.study_id
    ds.AccessionNumber = study.accession_number
    ds.StudyDescription = study.description

    # General Series
    ds.Modality = series.modality
    ds.SeriesInstanceUID = series.uid
    ds.SeriesNumber = series.number
    ds.SeriesDate = study.date
    ds.SeriesTime = series.time
    ds.SeriesDescription = series.description
    ds.ProtocolName = series.protocol_name
    ds.BodyPartExamined = series.body_part
    if series.laterality and series.modality not in ("MG",):
        ds.Laterality = series.laterality
    if series.modality in ("CT", "MR"):
        ds.PatientPosition = "HFS"
    ds.OperatorsName = "Tech^Demo"

    # General Equipment
    ds.Manufacturer = MANUFACTURER
    ds.InstitutionName = INSTITUTION
    ds.InstitutionAddress = "1 Demo Street, Lightbox City"
    ds.StationName = series.station
    ds.InstitutionalDepartmentName = "Radiology"
    ds.ManufacturerModelName = series.model
    ds.DeviceSerialNumber = f"LBX-{series.station}-0001"
    ds.SoftwareVersions = f"lightbox-demo {DEMO_VERSION}"

    # General Image / Acquisition
    ds.AcquisitionDate = study.date
    ds.ContentDate = study.date
    ds.BurnedInAnnotation = "NO"

    if series.frame_of_reference_uid:
        ds.FrameOfReferenceUID = series.frame_of_reference_uid
        ds.PositionReferenceIndicator = ""

    builder = {"CT": _ct, "MR": _mr, "DX": _dx, "MG": _mg, "US": _us, "PT": pet_header}[series.modality]
    builder(ds, series)
    return ds


def _image_plane(ds: Dataset, series: SeriesPlan) -> None:
    ds.PixelSpacing = [round(v, 6) for v in series.pixel_spacing]
    ds.ImageOrientationPatient = list(series.image_plane()[0])
    ds.SliceThickness = series.slice_thickness
    ds.SpacingBetweenSlices = abs(series.slice_step)


def _monochrome(ds: Dataset, series: SeriesPlan, bits_stored: int = 12) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = series.rows
    ds.Columns = series.columns
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0


def _ct(ds: Dataset, series: SeriesPlan) -> None:
    kernel = series.params["kernel"]
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    _image_plane(ds, series)
    _monochrome(ds, series)
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    _windows(ds, _CT_WINDOWS[kernel])
    ds.AcquisitionNumber = 1
    ds.KVP = 120
    ds.DataCollectionDiameter = 500
    ds.ReconstructionDiameter = 400
    ds.DistanceSourceToDetector = 1085.6
    ds.DistanceSourceToPatient = 595
    ds.GantryDetectorTilt = 0
    prior = bool(series.params.get("prior"))
    ds.TableHeight = 160.0 - series.params["shift"][1]
    ds.RotationDirection = "CW"
    ds.ExposureTime = 500
    ds.XRayTubeCurrent = 220 if prior else 200
    ds.Exposure = 110 if prior else 100
    ds.FilterType = "BODY FILTER"
    ds.GeneratorPower = 24
    ds.FocalSpots = 1.2
    ds.ConvolutionKernel = kernel
    ds.RevolutionTime = 0.5
    ds.SingleCollimationWidth = 0.625
    ds.TotalCollimationWidth = 40
    ds.TableSpeed = 55
    ds.TableFeedPerRotation = 27.5
    ds.SpiralPitchFactor = 1.375
    ds.CTDIvol = 8.1 if prior else 7.4
    phantom = Dataset()
    phantom.CodeValue, phantom.CodingSchemeDesignator = "113691", "DCM"
    phantom.CodeMeaning = "IEC Body Dosimetry Phantom"
    ds.CTDIPhantomTypeCodeSequence = [phantom]
    ds.ContrastBolusAgent = "IOHEXOL 350 MG/ML"
    ds.ContrastBolusRoute = "IV"
    ds.ContrastBolusVolume = 80
    ds.ContrastBolusIngredient = "IODINE"
    ds.ContrastBolusIngredientConcentration = 350


def _mr(ds: Dataset, series: SeriesPlan) -> None:
    seq = series.params["sequence"]
    tr, te, ti, etl, flip, scanning, variant, name = _MR_PROTOCOLS[seq]
    ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    _image_plane(ds, series)
    _monochrome(ds, series)
    _windows(ds, MR_WINDOWS[seq])
    ds.AcquisitionNumber = 1
    ds.ScanningSequence = scanning.split("\\")
    ds.SequenceVariant = variant.split("\\")
    ds.ScanOptions = "" if seq == "T1" else "FC"
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = name
    ds.RepetitionTime = tr
    ds.EchoTime = te
    if ti is not None:
        ds.InversionTime = ti
    ds.EchoTrainLength = etl
    ds.NumberOfAverages = 1 if seq != "T1" else 2
    ds.ImagingFrequency = 63.87
    ds.ImagedNucleus = "1H"
    ds.EchoNumbers = 1
    ds.MagneticFieldStrength = 1.5
    ds.NumberOfPhaseEncodingSteps = int(series.rows * 0.8)
    ds.PercentSampling = 100
    ds.PercentPhaseFieldOfView = 100
    ds.PixelBandwidth = 190 if seq == "T1" else 220
    ds.ReceiveCoilName = "HEAD 16"
    ds.TransmitCoilName = "BODY"
    ds.AcquisitionMatrix = [0, series.columns, int(series.rows * 0.8), 0]
    ds.InPlanePhaseEncodingDirection = "ROW"
    ds.FlipAngle = flip
    ds.SAR = 1.2
    ds.dBdt = 0


def _projection(ds: Dataset, series: SeriesPlan, windows: Sequence[tuple[float, float, str]]) -> None:
    """Modules shared by DX and MG 'for presentation' images."""
    ds.ImageType = ["ORIGINAL", "PRIMARY", ""]
    _monochrome(ds, series)
    _windows(ds, windows)
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.RescaleType = "US"
    ds.PresentationLUTShape = "IDENTITY"
    ds.LossyImageCompression = "00"
    ds.ImagerPixelSpacing = [round(v, 6) for v in series.pixel_spacing]
    ds.DetectorConfiguration = "AREA"
    ds.DetectorID = f"{series.station}-DET"
    ds.AcquisitionContextSequence = []
    ds.AcquisitionNumber = 1


def _dx(ds: Dataset, series: SeriesPlan) -> None:
    view = series.params["view"]
    _projection(ds, series, _DX_WINDOWS)
    ds.PatientOrientation = list(series.params["orientation"])
    ds.ImageLaterality = "U"
    ds.AnatomicRegionSequence = [_code(_CHEST)]
    ds.ViewPosition = view
    item = _code(_VIEWS[view])
    item.ViewModifierCodeSequence = []
    ds.ViewCodeSequence = [item]
    ds.DetectorType = "SCINTILLATOR"
    ds.PositionerType = "COLUMN"
    ds.DistanceSourceToDetector = 1800
    ds.DistanceSourceToPatient = 1650 if view == "PA" else 1600
    ds.EstimatedRadiographicMagnificationFactor = round(1800 / ds.DistanceSourceToPatient, 4)
    ds.KVP = 125 if view == "PA" else 120
    ds.ExposureTime = 8 if view == "PA" else 20
    ds.XRayTubeCurrent = 320
    ds.Exposure = 3 if view == "PA" else 6
    ds.Grid = ["FOCUSED", "RECIPROCATING"]


_MG_ORIENTATION = {
    ("R", "CC"): ("P", "L"),
    ("L", "CC"): ("A", "R"),
    ("R", "MLO"): ("P", "F"),
    ("L", "MLO"): ("A", "F"),
}


def _mg(ds: Dataset, series: SeriesPlan) -> None:
    side, view = series.params["side"], series.params["view"]
    _projection(ds, series, _MG_WINDOWS)
    ds.PatientOrientation = list(_MG_ORIENTATION[(side, view)])
    ds.ImageLaterality = side
    ds.AnatomicRegionSequence = [_code(_BREAST)]
    ds.ViewPosition = view
    item = _code(_VIEWS[view])
    item.ViewModifierCodeSequence = []
    ds.ViewCodeSequence = [item]
    ds.PositionerType = "MAMMOGRAPHIC"
    ds.PositionerPrimaryAngle = 0 if view == "CC" else (45 if side == "R" else -45)
    ds.OrganExposed = "BREAST"
    ds.BreastImplantPresent = "NO"
    ds.PartialView = "NO"
    ds.DetectorType = "DIRECT"
    ds.DistanceSourceToDetector = 660
    ds.DistanceSourceToPatient = 640
    ds.EstimatedRadiographicMagnificationFactor = round(660 / 640, 4)
    ds.BodyPartThickness = 52 if view == "CC" else 56
    ds.CompressionForce = 110 if view == "CC" else 125
    ds.KVP = 29
    ds.ExposureTime = 1200
    ds.XRayTubeCurrent = 100
    ds.Exposure = 120
    ds.AnodeTargetMaterial = "TUNGSTEN"
    ds.FilterMaterial = ["RHODIUM"]
    ds.Grid = ["FOCUSED", "RECIPROCATING"]
    ds.RelativeXRayExposure = 400
    ds.EntranceDoseInmGy = 5.1
    ds.OrganDose = 1.3


def _us_region(bounds: Sequence[int], delta: Sequence[float], data_type: int, flags: int = 0) -> Dataset:
    x0, y0, x1, y1 = bounds
    item = Dataset()
    item.RegionSpatialFormat = 1  # 2D
    item.RegionDataType = data_type  # 1 tissue, 2 colour flow
    item.RegionFlags = flags
    item.RegionLocationMinX0 = x0
    item.RegionLocationMinY0 = y0
    item.RegionLocationMaxX1 = x1
    item.RegionLocationMaxY1 = y1
    item.ReferencePixelX0 = (x1 - x0 + 1) // 2
    item.ReferencePixelY0 = 0
    item.PhysicalUnitsXDirection = 3  # cm
    item.PhysicalUnitsYDirection = 3
    item.ReferencePixelPhysicalValueX = 0.0
    item.ReferencePixelPhysicalValueY = 0.0
    item.PhysicalDeltaX = round(delta[0], 8)
    item.PhysicalDeltaY = round(delta[1], 8)
    return item


def us_colour_box(series: SeriesPlan) -> tuple[int, int, int, int]:
    """Pixel bounds (x0, y0, x1, y1) of the colour-flow box of the ultrasound cine."""
    x0, y0, x1, y1 = series.params["region"]
    dx, dy = series.params["delta_cm"]
    centre = (x0 + x1 + 1) / 2
    return (
        int(round(centre - 1.2 / dx)),
        int(round(y0 + 1.3 / dy)),
        int(round(centre + 1.2 / dx)) - 1,
        int(round(y0 + 2.9 / dy)) - 1,
    )


def _us(ds: Dataset, series: SeriesPlan) -> None:
    frame_time = series.params["frame_time_ms"]
    ds.ImageType = ["ORIGINAL", "PRIMARY", "VASCULAR", "0011"]
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows = series.rows
    ds.Columns = series.columns
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.LossyImageCompression = "00"
    ds.PatientOrientation = ""
    ds.NumberOfFrames = series.frames
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.FrameTime = round(frame_time, 4)
    ds.RecommendedDisplayFrameRate = round(1000.0 / frame_time)
    ds.CineRate = round(1000.0 / frame_time)
    ds.EffectiveDuration = round(series.frames * frame_time / 1000.0, 4)
    ds.ActualFrameDuration = int(frame_time)
    ds.PreferredPlaybackSequencing = 0  # looping
    ds.HeartRate = 75
    ds.UltrasoundColorDataPresent = 1
    ds.TransducerType = "LINEAR"
    ds.DepthOfScanField = 40
    ds.ProcessingFunction = "VASCULAR"
    ds.MechanicalIndex = 0.9
    ds.SoftTissueThermalIndex = 0.4
    ds.BoneThermalIndex = 0.6
    region = series.params["region"]
    delta = series.params["delta_cm"]
    ds.SequenceOfUltrasoundRegions = [
        _us_region(region, delta, 1),
        _us_region(us_colour_box(series), delta, 2),
    ]


def set_instance(ds: Dataset, series: SeriesPlan, index: int, pixel_bytes: bytes) -> None:
    """Fill the per-instance attributes of instance ``index`` (0-based) and its pixels."""
    uid = series.instance_uid(index)
    ds.file_meta.MediaStorageSOPInstanceUID = UID(uid)
    ds.SOPInstanceUID = uid
    ds.InstanceNumber = index + 1
    # Half a second per slice of a helical scan, one per MR slice, a few s per radiograph.
    seconds = {"CT": 0.12, "MR": 2.0}.get(series.modality, 30.0) * index
    hh, mm, ss = int(series.time[:2]), int(series.time[2:4]), int(series.time[4:6])
    t = hh * 3600 + mm * 60 + ss + seconds
    stamp = f"{int(t) // 3600 % 24:02d}{int(t) // 60 % 60:02d}{t % 60:09.6f}"
    ds.AcquisitionTime = stamp
    ds.ContentTime = stamp
    if series.first_position is not None:
        position = series.position(index)
        ds.ImagePositionPatient = list(position)
        normal = series.normal
        ds.SliceLocation = round(float(sum(p * n for p, n in zip(position, normal, strict=True))), 4)
    if series.modality == "PT":
        ds.ImageIndex = index + 1
    vr = "OB" if ds.BitsAllocated == 8 else "OW"
    ds.add_new(0x7FE00010, vr, pixel_bytes)
