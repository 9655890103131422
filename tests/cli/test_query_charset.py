"""'lightbox query' refuses a name the node's character set cannot encode, before connecting."""

from __future__ import annotations

import socket

import pytest

from workstation.cli import main
from workstation.config import Node, Settings, save
from workstation.home import Home


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("charset", ["ISO_IR 100", ""])
def test_greek_name_on_a_latin1_node_is_refused_before_anything_is_sent(lightbox_home, capsys, charset):
    home = Home.single(lightbox_home).ensure()
    save(Settings(nodes=[Node(name="latin", ae_title="QR", host="127.0.0.1", port=_closed_port(), charset=charset)]),
         home.config_file)
    code = main(["query", "latin", "--patient-name", "Διονυσιος"])
    err = capsys.readouterr().err
    assert code != 0
    assert "cannot be sent" in err and "wildcard" in err and "ISO_IR 192" in err
    assert "refused" not in err.lower().replace("cannot be sent", "")  # no association was attempted
    assert "Διονυσιος" not in err  # code points, not the name
