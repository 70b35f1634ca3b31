from c2m_core import C2M


def test_tv_category_loads():
    app = C2M(db_path=":memory:")
    assert "tv" in app.categories
