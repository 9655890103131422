"""Subcommands: report create/show/list/verify/config, outbox, cert (structured reporting)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError

from workstation import audit
from workstation.cli.common import CliError, Context, Subparsers, print_json, print_table
from workstation.reporting import certificates as certs
from workstation.reporting.inputs import Measurement, ReportContent
from workstation.reporting.settings import ReportingSettings
from workstation.reporting.signature import SignatureCheck, SignatureStatus, verify
from workstation.reporting.sr_text import render, summarize
from workstation.reporting.templates import TemplateError, builtin_templates, get_template, template_for_modalities

SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
# Exit codes of 'report verify'.
EXIT_INVALID, EXIT_UNSIGNED, EXIT_UNTRUSTED = 1, 2, 3


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    p = sub.add_parser("report", help="structured reports: create, show, list, verify")
    rsub = p.add_subparsers(dest="report_command", metavar="ACTION", required=True)

    c = rsub.add_parser("create", help="write a report for a cached study (preliminary, or final and signed)")
    c.add_argument("--study", required=True, metavar="UID")
    c.add_argument("--template", help="template id (default: by the study's modalities); see 'report templates'")
    c.add_argument("--field", action="append", default=[], metavar="NAME=VALUE", help="a field value (repeatable)")
    c.add_argument("--with-measurements", nargs="?", const="", default=None, metavar="FILE",
                   help="add the study's measurements (JSON; default <home>/measurements/<StudyUID>.json)")
    c.add_argument("--final", action="store_true", help="complete, verified and signed")
    c.add_argument("--key", help="PKCS#12 file, or PEM private key (default: reporting settings)")
    c.add_argument("--cert", help="PEM certificate for a PEM key")
    c.add_argument("--passphrase-file", help="file holding the key's passphrase (else asked on the terminal)")
    c.add_argument("--amend", metavar="SOP_UID", help="replace this report (a new report with a predecessor)")
    c.add_argument("--reason", default="", help="why the report is amended")
    c.add_argument("--send", metavar="NODE", help="queue for NODE and deliver now (C-STORE + storage commitment)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=run_create)

    s = rsub.add_parser("show", help="any SR as readable text")
    s.add_argument("target", metavar="FILE|SOP_UID")
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=run_show)

    ls = rsub.add_parser("list", help="the reports of a study, with status and signature")
    ls.add_argument("--study", required=True, metavar="UID")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=run_list)

    v = rsub.add_parser("verify", help="verify every digital signature of any DICOM object")
    v.add_argument("target", metavar="FILE|SOP_UID")
    v.add_argument("--trust", action="append", default=[], metavar="CERT", help="trusted certificate file or folder")
    v.add_argument("--json", action="store_true")
    v.set_defaults(handler=run_verify)

    pd = rsub.add_parser("pdf", help="the report as PDF (and as Encapsulated PDF in the study)")
    pd.add_argument("target", metavar="FILE|SOP_UID")
    pd.add_argument("--out", required=True, help="PDF file to write")
    pd.add_argument("--store", action="store_true", help="also store it in the study as Encapsulated PDF")
    pd.add_argument("--send", metavar="NODE", help="with --store: queue the Encapsulated PDF for NODE")
    pd.add_argument("--json", action="store_true")
    pd.set_defaults(handler=run_pdf)

    t = rsub.add_parser("templates", help="list the report templates")
    t.add_argument("--json", action="store_true")
    t.set_defaults(handler=run_templates)

    cf = rsub.add_parser("config", help="show or set the reporting settings")
    for opt, help_ in (("--name", "radiologist, DICOM PN (Family^Given)"), ("--organisation", "verifying organisation"),
                       ("--key", "PKCS#12 or PEM key path"), ("--cert", "certificate path for a PEM key"),
                       ("--destination", "node reports are sent to (empty: the study's archive)")):
        cf.add_argument(opt, help=help_)
    cf.add_argument("--trust", action="append", metavar="CERT", help="trusted certificate file or folder (repeatable)")
    cf.add_argument("--json", action="store_true")
    cf.set_defaults(handler=run_config)

    o = sub.add_parser("outbox", help="reports waiting to be delivered, delivered and failed")
    o.add_argument("--send", action="store_true", help="deliver what is due now (one round)")
    o.add_argument("--retry", metavar="SOP_UID", help="queue a failed item again")
    o.add_argument("--json", action="store_true")
    o.set_defaults(handler=run_outbox)

    cert = sub.add_parser("cert", help="signing certificates")
    csub = cert.add_subparsers(dest="cert_command", metavar="ACTION", required=True)
    ct = csub.add_parser("create-test", help="make a self-signed test certificate (for demos, not clinical use)")
    ct.add_argument("--out", help="folder (default <home>/certificates)")
    ct.add_argument("--name", default="Test Radiologist", help="common name")
    ct.add_argument("--organisation", default="Lightbox Demo")
    ct.add_argument("--passphrase-file", help="encrypt the key with this file's passphrase")
    ct.add_argument("--use", action="store_true", help="sign with it and trust it (reporting settings)")
    ct.add_argument("--json", action="store_true")
    ct.set_defaults(handler=run_cert_create)
    cs = csub.add_parser("show", help="subject and expiry of a certificate (default: the configured one)")
    cs.add_argument("file", nargs="?")
    cs.add_argument("--passphrase-file")
    cs.add_argument("--json", action="store_true")
    cs.set_defaults(handler=run_cert_show)
    ci = csub.add_parser("import", help="use a PKCS#12 file for signing (checked with its passphrase)")
    ci.add_argument("file")
    ci.add_argument("--passphrase-file")
    ci.set_defaults(handler=run_cert_import)


# Helpers ---------------------------------------------------------------------------------

def _passphrase(path: str | None, prompt: str = "Passphrase of the signing key: ") -> str | None:
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            raise CliError(f"cannot read the passphrase file: {exc.strerror or exc}") from None
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return None


def _identity(ctx: Context, key: str | None, cert: str | None, passphrase_file: str | None) -> certs.SigningIdentity:
    rs = ReportingSettings.of(ctx.settings)
    key = key or rs.key_path
    cert = cert or rs.cert_path or None
    if not key:
        raise CliError("a final report is signed: give --key (and --cert), or set them with 'lightbox report config'")
    password = None if (certs.is_pkcs12(key) is False and not passphrase_file and not _encrypted_pem(key)) \
        else _passphrase(passphrase_file)
    try:
        return certs.load_identity(key, cert, password)
    except certs.CertificateError as exc:
        raise CliError(str(exc)) from None


def _encrypted_pem(path: str) -> bool:
    try:
        return b"ENCRYPTED" in Path(path).read_bytes()[:200]
    except OSError:
        return False


def _load_object(ctx: Context, target: str) -> Dataset:
    path = Path(target)
    if not path.exists():
        row = ctx.cache.instance(target)
        if row is None:
            raise CliError(f"{target}: no such file, and no object with this SOP Instance UID in the cache")
        path = ctx.cache.path_of(row)
    try:
        return dcmread(path)
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise CliError(f"{target}: not a readable DICOM file ({exc})") from None


def _trust(ctx: Context, extra: list[str]) -> certs.TrustStore:
    paths: list[str | os.PathLike[str]] = [*ReportingSettings.of(ctx.settings).trust_store, *extra]
    try:
        return certs.TrustStore.from_paths(paths)
    except (OSError, certs.CertificateError) as exc:
        raise CliError(f"cannot read the trust store: {exc}") from None


def person_name(text: str) -> str:
    """'Jane Doe' as a DICOM PN, family name first: 'Doe^Jane' (a PN with '^' is kept)."""
    if "^" in text:
        return text
    parts = text.split()
    return f"{parts[-1]}^{' '.join(parts[:-1])}" if len(parts) > 1 else text


def signature_line(checks: list[SignatureCheck]) -> str:
    if not checks:
        return SignatureStatus.UNSIGNED.value
    worst = [c for c in checks if c.status is not SignatureStatus.VALID]
    return (worst[0] if worst else checks[0]).status.value


# report create -------------------------------------------------------------------------------

def run_create(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.reporting import lifecycle
    from workstation.reporting.sr_build import ContentError
    from workstation.store.outbox import OutboxError

    study = ctx.cache.study(args.study)
    if study is None:
        raise CliError(f"no study {args.study} in the cache (see 'lightbox studies')")
    try:
        template = get_template(args.template) if args.template else template_for_modalities(study.modalities)
        content = ReportContent(template.id)
        for item in args.field:
            name, sep, value = item.partition("=")
            if not sep:
                raise CliError(f"--field {item!r}: use NAME=VALUE", exit_code=2)
            spec = template.field(name.strip())
            spec.parse(value)  # a clear message now rather than at build time
            content.values[spec.id] = value
        if args.with_measurements is not None:
            content.measurements = _measurements(ctx, args.study, args.with_measurements)
    except TemplateError as exc:
        raise CliError(str(exc), exit_code=2) from None
    identity = _identity(ctx, args.key, args.cert, args.passphrase_file) if args.final else None
    try:
        destination = lifecycle.resolve_destination(ctx.cache, ctx.settings, args.study, args.send)
        result = lifecycle.issue_report(
            ctx.cache, ctx.settings, args.study, content, final=args.final, identity=identity,
            predecessor_uid=args.amend or "", amendment_reason=args.reason, destination=destination,
        )
    except (ContentError, OutboxError, TemplateError) as exc:
        raise CliError(str(exc)) from None
    audit.report_signed(ctx.cache, args.study, "final report signed" if result.signed else "preliminary report")
    delivered = None
    if args.send and result.outbox_pk is not None:
        delivered = _deliver(ctx)
    data = result.as_dict()
    if delivered is not None:
        data["delivery"] = delivered.get(result.sop_instance_uid)
    if args.json:
        print_json(data)
    else:
        print(f"Report {result.sop_instance_uid} ({result.state}{', signed' if result.signed else ''}) stored")
        for w in result.warnings:
            print(f"  warning: {w}")
        if result.destination:
            print(f"  queued for {result.destination}")
            if delivered is not None:
                state, message = delivered.get(result.sop_instance_uid, ("queued", ""))
                print(f"  delivery: {state}" + (f" — {message}" if message else ""))
        else:
            print("  not queued: no destination (use --send NODE or 'lightbox report config --destination')")
    if delivered is not None and delivered.get(result.sop_instance_uid, ("",))[0] == "failed":
        return 1
    return 0


def _measurements(ctx: Context, study_uid: str, path: str) -> list[Measurement]:
    from workstation.session.study_work import DIRECTORY_NAME, read_report_measurements

    # The viewer saves a study's measurements there as they are made (workstation.session.study_work).
    file = Path(path) if path else ctx.home.data_dir / DIRECTORY_NAME / f"{study_uid}.json"
    try:
        return read_report_measurements(file)
    except FileNotFoundError:
        raise CliError(f"no measurements for this study ({file} does not exist)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(f"cannot read measurements {file}: {exc}") from None


def _deliver(ctx: Context) -> dict[str, tuple[str, str]]:
    from workstation.reporting.sender import OutboxSender, storage_commitment

    sender = OutboxSender(ctx.cache, ctx.settings, storage_commitment(ctx.home, ctx.settings, ctx.cache))
    report = sender.run_once()
    # A stored item's commitment is asked in the same round; keep the last word per item.
    out: dict[str, tuple[str, str]] = {}
    for uid, state, message in report.changes:
        out[uid] = (state, message)
    return out


# report show / list / verify ----------------------------------------------------------------------

def run_show(args: argparse.Namespace, ctx: Context) -> int:
    ds = _load_object(ctx, args.target)
    try:
        text = render(ds)
    except ValueError as exc:
        raise CliError(f"{args.target}: {exc}") from None
    checks = verify(ds, _trust(ctx, []))
    if args.json:
        s = summarize(ds)
        print_json({"summary": s.__dict__ | {"state": s.state}, "text": text,
                    "signatures": [c.as_dict() for c in checks]})
        return 0
    print(text)
    print()
    print(f"Signature: {signature_line(checks)}")
    return 0


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.reporting.documents import study_documents
    from workstation.store import outbox

    if ctx.cache.study(args.study) is None:
        raise CliError(f"no study {args.study} in the cache (see 'lightbox studies')")
    # Reports only; key images, presentation states and rejection notes are listed under their own kind.
    reports, others = study_documents(ctx.cache, args.study, _trust(ctx, []))
    rows = []
    for r in reports:
        if r.state == "unreadable":
            rows.append({"sop_instance_uid": r.sop_instance_uid, "state": "unreadable", "error": r.delivery_message})
            continue
        rows.append({
            "sop_instance_uid": r.sop_instance_uid, "title": r.title, "state": r.state,
            "content_datetime": r.content_datetime, "signature": r.signature, "replaces": r.replaces,
            "delivery": r.delivery, "delivery_message": r.delivery_message,
        })
    other_rows = [{"sop_instance_uid": o.sop_instance_uid, "kind": o.kind, "label": o.title,
                   "content_datetime": o.content_datetime, "delivery": o.delivery,
                   "delivery_message": o.delivery_message} for o in others]
    drafts = [{"draft_id": d.draft_id, "template_id": d.template_id, "updated": d.updated}
              for d in outbox.list_drafts(ctx.cache, args.study)]
    if args.json:
        status = outbox.report_status(ctx.cache, [args.study]).get(args.study, "unreported")
        print_json({"study_uid": args.study, "status": status,
                    "reports": rows, "other_objects": other_rows, "drafts": drafts})
        return 0
    if rows:
        print_table(("Title", "State", "Date", "Signature", "Delivery", "SOP Instance UID"),
                    ((r.get("title", ""), r["state"], r.get("content_datetime", ""), r.get("signature", ""),
                      r.get("delivery", "") or "not sent", r["sop_instance_uid"]) for r in rows))
    else:
        print("No report for this study")
    if other_rows:
        print()
        print_table(("Other objects", "Label", "Date", "Delivery", "SOP Instance UID"),
                    ((o["kind"], o["label"], o["content_datetime"], o["delivery"] or "not sent", o["sop_instance_uid"])
                     for o in other_rows))
    for d in drafts:
        print(f"draft {d['draft_id']} ({d['template_id']}), last saved {d['updated']}")
    return 0


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    ds = _load_object(ctx, args.target)
    checks = verify(ds, _trust(ctx, args.trust))
    audit.signature_checked(all(c.cryptographically_valid for c in checks), str(ds.get("StudyInstanceUID", "")),
                            ctx.cache)
    if args.json:
        print_json({"signatures": [c.as_dict() for c in checks], "status": signature_line(checks)})
    elif not checks:
        print("unsigned: the object carries no digital signature")
    else:
        for n, c in enumerate(checks, 1):
            print(f"Signature {n}: {c.status.value}")
            if c.signer:
                print(f"  signer: {c.signer.subject} (issuer {c.signer.issuer}; valid "
                      f"{c.signer.not_before:%Y-%m-%d} to {c.signer.not_after:%Y-%m-%d})")
            print(f"  time: {c.signed_at}  algorithm: {c.algorithm}  purpose: {c.purpose or '-'}")
            print(f"  trusted: {'yes' if c.trusted else 'no'}  covers {len(c.covered)} elements: "
                  + ", ".join(c.covered[:12]) + (" …" if len(c.covered) > 12 else ""))
            if c.message:
                print(f"  {c.message}")
    if not checks:
        return EXIT_UNSIGNED
    if any(not c.cryptographically_valid for c in checks):
        return EXIT_INVALID
    if any(c.status is SignatureStatus.UNTRUSTED for c in checks):
        return EXIT_UNTRUSTED
    return 0


def run_pdf(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.reporting.pdf import encapsulated_pdf, report_pdf, store_pdf

    ds = _load_object(ctx, args.target)
    if "ContentSequence" not in ds:
        raise CliError(f"{args.target}: not a structured report (no content tree)")
    pdf = report_pdf(ds, signature_line(verify(ds, _trust(ctx, []))))
    try:
        Path(args.out).write_bytes(pdf)
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    data = {"pdf": args.out, "bytes": len(pdf)}
    if args.store:
        if ctx.cache.study(str(ds.StudyInstanceUID)) is None:
            raise CliError("the report's study is not in the cache: cannot store the PDF in it")
        if args.send:
            ctx.settings.node(args.send)  # an unknown node is refused before anything is stored
        enc = encapsulated_pdf(pdf, ds)
        result = store_pdf(ctx.cache, enc, args.send)
        data.update(encapsulated_pdf=str(enc.SOPInstanceUID), stored=result.outcome.value, queued_for=args.send)
    if args.json:
        print_json(data)
    else:
        print(f"PDF written to {args.out} ({len(pdf)} bytes)")
        if args.store:
            print(f"Encapsulated PDF {data['encapsulated_pdf']} {data['stored']}"
                  + (f", queued for {args.send}" if args.send else ""))
    return 0


def run_templates(args: argparse.Namespace, ctx: Context) -> int:
    templates = builtin_templates()
    if args.json:
        print_json([{"id": t.id, "title": t.title, "modalities": list(t.modalities),
                     "fields": [{"id": f.id, "label": f.label, "type": f.type, "required": f.required,
                                 "options": [o.as_list() for o in f.options],
                                 "unit": f.unit.value if f.unit else None} for f in t.fields]}
                    for t in templates.values()])
        return 0
    for t in templates.values():
        print(f"{t.id}: {t.title}" + (f" ({'/'.join(t.modalities)})" if t.modalities else ""))
        for f in t.fields:
            extra = f" [{f.unit.value}]" if f.unit else (f" one of {len(f.options)} codes" if f.options else "")
            print(f"  {f.id}{' *' if f.required else ''}: {f.label} ({f.type}{extra})")
    return 0


def run_config(args: argparse.Namespace, ctx: Context) -> int:
    rs = ReportingSettings.of(ctx.settings)
    changed = False
    for attr, value in (("radiologist_name", args.name), ("organisation", args.organisation),
                        ("key_path", args.key), ("cert_path", args.cert), ("destination", args.destination)):
        if value is not None:
            if attr in ("key_path", "cert_path") and value:
                value = str(Path(value).expanduser().resolve())
            setattr(rs, attr, value)
            changed = True
    if args.trust is not None:
        rs.trust_store = [str(Path(p).expanduser().resolve()) for p in args.trust if p]
        changed = True
    if changed:
        rs.store(ctx.settings)
        ctx.save_settings()
    if args.json:
        print_json(rs.__dict__)
    else:
        for k, v in rs.__dict__.items():
            print(f"{k}: {v if v not in ('', []) else '-'}")
    return 0


# outbox -----------------------------------------------------------------------------------

def run_outbox(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.store import outbox

    if args.retry:
        items = [i for i in outbox.list_outbox(ctx.cache) if i.sop_instance_uid == args.retry]
        if not items:
            raise CliError(f"{args.retry} is not in the outbox")
        for i in items:
            outbox.enqueue(ctx.cache, i.sop_instance_uid, i.destination)
    if args.send:
        _deliver(ctx)
    items = outbox.list_outbox(ctx.cache)
    if args.json:
        print_json([i.as_dict() for i in items])
        return 0
    if not items:
        print("The outbox is empty")
        return 0
    print_table(("Destination", "State", "Attempts", "Next attempt", "Message", "SOP Instance UID"),
                ((i.destination, i.state, i.attempts, i.next_attempt if i.state in ("queued", "stored") else "",
                  i.last_error, i.sop_instance_uid) for i in items))
    return 0


# cert --------------------------------------------------------------------------------------

def run_cert_create(args: argparse.Namespace, ctx: Context) -> int:
    out = Path(args.out) if args.out else ctx.home.config_dir / "certificates"
    passphrase = _passphrase(args.passphrase_file) if args.passphrase_file else None
    made = certs.create_test_certificate(out, args.name, args.organisation, passphrase=passphrase)
    if args.use:
        rs = ReportingSettings.of(ctx.settings)
        rs.key_path, rs.cert_path = str(made.key_pem.resolve()), str(made.cert_pem.resolve())
        if str(made.cert_pem.resolve()) not in rs.trust_store:
            rs.trust_store.append(str(made.cert_pem.resolve()))
        rs.radiologist_name = rs.radiologist_name or person_name(args.name)
        rs.organisation = rs.organisation or args.organisation
        rs.store(ctx.settings)
        ctx.save_settings()
    data = {"key": str(made.key_pem), "certificate": str(made.cert_pem), "pkcs12": str(made.pkcs12),
            "used_for_signing": bool(args.use)}
    if args.json:
        print_json(data)
    else:
        print(f"Test certificate for {args.name!r} (self-signed; for demos, not clinical use):")
        for k in ("key", "certificate", "pkcs12"):
            print(f"  {k}: {data[k]}")
    return 0


def _cert_info(ctx: Context, file: str | None, passphrase_file: str | None) -> certs.CertificateInfo:
    rs = ReportingSettings.of(ctx.settings)
    path = file or rs.cert_path or rs.key_path
    if not path:
        raise CliError("no certificate configured (see 'lightbox cert create-test' or 'lightbox cert import')")
    try:
        if certs.is_pkcs12(path) and not _looks_like_der_cert(path):
            return certs.load_identity(path, None, _passphrase(passphrase_file)).info
        return certs.CertificateInfo.of(certs.load_certificate(path))
    except certs.CertificateError as exc:
        raise CliError(str(exc)) from None


def _looks_like_der_cert(path: str) -> bool:
    try:
        certs.load_certificate(path)
        return True
    except certs.CertificateError:
        return False


def run_cert_show(args: argparse.Namespace, ctx: Context) -> int:
    info = _cert_info(ctx, args.file, args.passphrase_file)
    warning = info.expiry_warning()
    if args.json:
        print_json({"subject": info.subject, "issuer": info.issuer, "not_before": info.not_before.isoformat(),
                    "not_after": info.not_after.isoformat(), "days_left": int(info.days_left()),
                    "fingerprint_sha256": info.fingerprint_sha256, "warning": warning})
    else:
        print(f"subject: {info.subject}\nissuer: {info.issuer}\nvalid: {info.not_before:%Y-%m-%d} to "
              f"{info.not_after:%Y-%m-%d} ({int(info.days_left())} days left)\nSHA-256: {info.fingerprint_sha256}")
        if warning:
            print(f"warning: {warning}")
    return 0


def run_cert_import(args: argparse.Namespace, ctx: Context) -> int:
    path = Path(args.file).expanduser().resolve()
    try:
        identity = certs.load_identity(path, None, _passphrase(args.passphrase_file))
    except certs.CertificateError as exc:
        raise CliError(str(exc)) from None
    rs = ReportingSettings.of(ctx.settings)
    rs.key_path, rs.cert_path = str(path), ""
    rs.store(ctx.settings)
    ctx.save_settings()
    info = identity.info
    print(f"Signing with {info.subject}, valid to {info.not_after:%Y-%m-%d}")
    if info.expiry_warning():
        print(f"warning: {info.expiry_warning()}")
    return 0
