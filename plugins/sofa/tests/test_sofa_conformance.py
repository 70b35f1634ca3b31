import c2m_sofa

from c2m_core.testing import check_plugin


def test_conformance():
    check_plugin(c2m_sofa)
