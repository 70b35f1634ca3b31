"""The suite's own settings: what keeps it deterministic on a slow or loaded machine."""

from hypothesis import HealthCheck, settings


def test_property_tests_have_no_deadline_even_with_their_own_settings():
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check
    assert settings(max_examples=5).deadline is None  # a test's own @settings inherits it
