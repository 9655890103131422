"""OpenLDAP's slapd from Debian's packages as the site's directory, started by the test on 127.0.0.1.

The test builds everything in a temporary folder: a cn=config LDIF loaded with ``slapadd -n0`` into its
own slapd.d, an mdb database filled with ``slapadd -n1`` (people with hashed passwords and display
names, non-Latin ones among them), a CA and server certificate for StartTLS and ldaps://.  No debconf,
no system service: slapd runs in the foreground as the test's own process and is always stopped.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.audit.daemon import start_daemon, stop_daemon
from tests.audit.rsyslog_peer import free_port, make_pki

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
SUFFIX = "dc=lightbox,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"


def available() -> bool:
    """slapd, slapadd, the mdb backend and the schema files are installed (Debian: slapd)."""
    return (os.path.exists(SLAPD) and os.path.exists(SLAPADD) and (MODULE_DIR / "back_mdb.so").exists()
            and (SCHEMA_DIR / "inetorgperson.ldif").exists())


def ssha(password: str) -> str:
    """An RFC 2307 {SSHA} userPassword value (what slappasswd writes)."""
    salt = os.urandom(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode("utf-8") + salt).digest() + salt).decode()


@dataclass(frozen=True)
class Person:
    uid: str
    password: str
    display_name: str
    surname: str


def _ldif_value(attr: str, value: str) -> str:
    """``attr: value``, base64 (``attr:: ...``) when not plain ASCII, as LDIF asks."""
    if value.isascii() and not value.startswith((" ", ":", "<")):
        return f"{attr}: {value}"
    return f"{attr}:: {base64.b64encode(value.encode('utf-8')).decode()}"


@dataclass
class Slapd:
    """One slapd serving ``people`` under :data:`PEOPLE`, on ldap:// (StartTLS offered) and ldaps://."""

    folder: Path
    people: list[Person]
    port: int = field(default_factory=free_port)
    ldaps_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(self.folder)
        self.config_dir = self.folder / "slapd.d"
        self.db_dir = self.folder / "db"
        self.config_dir.mkdir()
        self.db_dir.mkdir()
        self._slapadd(0, self._config_ldif())
        self._slapadd(1, self._data_ldif())

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def _config_ldif(self) -> str:
        schemas = "\n\n".join((SCHEMA_DIR / f"{name}.ldif").read_text(encoding="utf-8")
                              for name in ("core", "cosine", "nis", "inetorgperson"))
        return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {self.folder / 'slapd.pid'}
olcTLSCACertificateFile: {self.pki['ca']}
olcTLSCertificateFile: {self.pki['cert']}
olcTLSCertificateKeyFile: {self.pki['key']}

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_DIR}
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcAccess: {{0}}to * by * read

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {self.db_dir}
olcDbMaxSize: 16777216
olcAccess: {{0}}to attrs=userPassword by anonymous auth by self write by * none
olcAccess: {{1}}to * by * read
"""

    def _data_ldif(self) -> str:
        entries = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: lightbox\n"
                   "o: Lightbox test site",
                   f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people"]
        for p in self.people:
            entries.append("\n".join([
                f"dn: uid={p.uid},{PEOPLE}", "objectClass: inetOrgPerson", f"uid: {p.uid}",
                _ldif_value("cn", p.display_name), _ldif_value("sn", p.surname),
                _ldif_value("displayName", p.display_name), f"userPassword: {ssha(p.password)}"]))
        return "\n\n".join(entries) + "\n"

    def _slapadd(self, db: int, ldif: str) -> None:
        path = self.folder / f"db{db}.ldif"
        path.write_text(ldif, encoding="utf-8")
        args = [SLAPADD, "-n", str(db), "-F", str(self.config_dir), "-l", str(path)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"slapadd -n{db} failed: {done.stderr[-2000:]}")

    def start(self) -> None:
        assert self.proc is None
        # -d 0: stay in the foreground (the test's own process), logging nothing but errors.
        self.proc = start_daemon(
            [SLAPD, "-d", "0", "-F", str(self.config_dir), "-h",
             f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.ldaps_port}/"],
            self.port, "slapd", self.folder / "slapd.out")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_daemon(proc)
