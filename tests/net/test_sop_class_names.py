"""The typed SOP class names are pynetdicom's own objects, not look-alikes."""

from __future__ import annotations

import pynetdicom.sop_class

from workstation.net import sop_class_names


def test_each_name_is_pynetdicoms_object_with_its_service_class():
    for name in sop_class_names.__all__:
        ours = getattr(sop_class_names, name)
        theirs = getattr(pynetdicom.sop_class, name)
        assert ours is theirs, name
        assert ours.service_class is theirs.service_class, name
