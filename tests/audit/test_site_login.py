"""Site login by LDAP bind against Debian's slapd started by the test on 127.0.0.1: a bind DN template or a
search, StartTLS and ldaps:// with the site's CA, the directory's (non-Latin) display name, and plain
sentences for a wrong password, an unreachable server and an untrusted certificate."""

from __future__ import annotations

import pytest

from tests.audit import slapd_peer
from tests.audit.slapd_peer import PEOPLE, Person, Slapd
from tests.net.helpers import free_port
from workstation import audit
from workstation.audit.identity import Identity, clear_session_user, session_user
from workstation.audit.site_login import LoginError, SiteLoginSettings, authenticate

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120),
              pytest.mark.skipif(not slapd_peer.available(), reason="Debian's slapd is not installed")]

ANA = Person("ana", "Ánä-seçret 1", "Ana Ñúñez", "Ñúñez")
LI = Person("li.wei", "長城-pass", "李 伟", "李")
PEOPLE_LIST = [ANA, LI, Person("Björn", "pw-b", "Björn Åström", "Åström")]


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd"), PEOPLE_LIST)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        assert server.proc is None


@pytest.fixture(autouse=True)
def no_session_user():
    yield
    clear_session_user()


def template(slapd: Slapd, **kw) -> SiteLoginSettings:
    return SiteLoginSettings(uri=slapd.uri, bind_dn_template=f"uid={{login}},{PEOPLE}", timeout_s=3, **kw)


def test_bind_dn_template_login_gives_the_directory_display_name(slapd):
    user = authenticate(template(slapd), "ana", ANA.password)
    assert (user.login, user.display_name, user.dn) == ("ana", "Ana Ñúñez", f"uid=ana,{PEOPLE}")
    assert authenticate(template(slapd), "li.wei", LI.password).display_name == "李 伟"
    # As read back from config.json (a fractional timeout, which ldap3 cannot pack into a socket option).
    extra: dict = {}
    SiteLoginSettings(uri=slapd.uri, bind_dn_template=f"uid={{login}},{PEOPLE}", timeout_s=2.5).store(extra)
    assert authenticate(SiteLoginSettings.of(extra), "ana", ANA.password).login == "ana"


def test_search_base_and_filter_find_the_entry_then_bind_as_it(slapd):
    cfg = SiteLoginSettings(uri=slapd.uri, search_base=PEOPLE,
                            search_filter="(&(objectClass=inetOrgPerson)(uid={login}))", timeout_s=3)
    assert authenticate(cfg, "Björn", "pw-b").display_name == "Björn Åström"
    # A filter metacharacter in the login is escaped, never a wildcard that finds somebody.
    with pytest.raises(LoginError) as err:
        authenticate(cfg, "*", "pw-b")
    assert err.value.reason == "credentials"


def test_wrong_password_unknown_user_and_empty_password_are_refused_alike(slapd):
    for login, password in (("ana", "wrong"), ("nobody", "wrong"), ("ana", "")):
        with pytest.raises(LoginError) as err:
            authenticate(template(slapd), login, password)
        assert err.value.reason == "credentials"
        assert ANA.password not in str(err.value)
    with pytest.raises(LoginError, match="wrong user name or password"):
        authenticate(template(slapd), "ana", "wrong")


def test_unreachable_server_is_named_in_plain_words():
    cfg = SiteLoginSettings(uri=f"ldap://127.0.0.1:{free_port()}", bind_dn_template=f"uid={{login}},{PEOPLE}",
                            timeout_s=2)
    with pytest.raises(LoginError) as err:
        authenticate(cfg, "ana", ANA.password)
    assert err.value.reason == "unreachable"
    assert "cannot be reached" in str(err.value) and "127.0.0.1" in str(err.value)


def test_starttls_and_ldaps_with_the_site_ca(slapd):
    ca = str(slapd.pki["ca"])
    assert authenticate(template(slapd, start_tls=True, ca_file=ca), "ana", ANA.password).login == "ana"
    ldaps = SiteLoginSettings(uri=slapd.ldaps_uri, bind_dn_template=f"uid={{login}},{PEOPLE}", ca_file=ca,
                              timeout_s=3)
    assert authenticate(ldaps, "ana", ANA.password).display_name == "Ana Ñúñez"


def test_a_server_certificate_the_ca_file_does_not_trust_is_refused(slapd, tmp_path):
    from tests.audit.rsyslog_peer import make_pki

    other_ca = str(make_pki(tmp_path)["ca"])
    for cfg in (template(slapd, start_tls=True, ca_file=other_ca),
                SiteLoginSettings(uri=slapd.ldaps_uri, bind_dn_template=f"uid={{login}},{PEOPLE}", ca_file=other_ca,
                                  timeout_s=3)):
        with pytest.raises(LoginError) as err:
            authenticate(cfg, "ana", ANA.password)
        assert err.value.reason in ("tls", "unreachable"), err.value
        assert "certificate" in str(err.value) or "TLS" in str(err.value), err.value


def test_settings_are_checked_and_round_trip():
    with pytest.raises(LoginError, match="ldap:// or ldaps://"):
        SiteLoginSettings(uri="http://x", bind_dn_template="uid={login}").check()
    with pytest.raises(LoginError, match="bind DN template or a search base"):
        SiteLoginSettings(uri="ldap://x").check()
    with pytest.raises(LoginError, match="StartTLS"):
        SiteLoginSettings(uri="ldaps://x", bind_dn_template="uid={login}", start_tls=True).check()
    cfg = SiteLoginSettings(uri="ldaps://dir.example", search_base="ou=p,dc=x", start_tls=False, ca_file="/ca.pem")
    extra: dict = {}
    cfg.store(extra)
    assert SiteLoginSettings.of(extra) == cfg
    SiteLoginSettings().store(extra)
    assert "site_login" not in extra and not SiteLoginSettings.of({}).configured


def test_a_site_login_names_the_user_in_audit_events_and_reports(lightbox_home, slapd):
    from workstation import config
    from workstation.reporting.settings import ReportingSettings

    user = authenticate(template(slapd), "ana", ANA.password)
    audit.session_started(user.login, user.display_name)
    assert session_user() is not None
    assert audit.current().identity.user_id == "ana" and audit.current().identity.shown == "Ana Ñúñez"
    rs = ReportingSettings.of(config.Settings())
    assert (rs.radiologist_name, rs.radiologist_id) == ("Ana Ñúñez^", "ana")
    from workstation.qc.instances import operator_name

    assert operator_name() == "Ana Ñúñez"
    audit.login_failed("li.wei", "site login refused: credentials")
    audit.session_ended()
    assert session_user() is None and audit.current().identity.user_id == Identity.current().user_id
    events = [(r["type"], r["outcome"], r["user"]) for r in audit.current().store.records()
              if r["event_code"] == "110114"]
    assert events == [("Login", "0", "ana"), ("Login", "4", "li.wei"), ("Logout", "0", "ana")]
