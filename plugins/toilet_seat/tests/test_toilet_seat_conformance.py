import c2m_toilet_seat

from c2m_core.testing import check_plugin


def test_conformance():
    check_plugin(c2m_toilet_seat)
