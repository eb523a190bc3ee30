"""Under CI, a skipped test fails the run, and a missing PostgreSQL is an error."""

from pathlib import Path

import pytest

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
# Plugins the inner runs do not need (hypothesis alone costs over a second per run).
FAST = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("REVIEW_ENGINE_TEST_POSTGRES_URL", raising=False)
    pytester.makeconftest(CONFTEST)
    return pytester


def test_a_skip_fails_the_run_only_under_ci(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(
        "import pytest\n"
        "def test_skipped():\n    pytest.skip('not here')\n"
        "def test_passes():\n    pass\n"
    )
    assert suite.runpytest(*FAST).ret == pytest.ExitCode.OK

    monkeypatch.setenv("CI", "true")
    result = suite.runpytest(*FAST)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*CI: 1 skipped test(s) fail the run*"])


def test_postgres_is_skipped_locally_but_required_in_ci(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile("def test_db(database_url):\n    assert database_url\n")
    local = suite.runpytest(*FAST)
    local.assert_outcomes(passed=1, skipped=1)

    monkeypatch.setenv("CI", "true")
    ci = suite.runpytest(*FAST)
    ci.assert_outcomes(passed=1, errors=1)
    ci.stdout.fnmatch_lines(["*CI must test PostgreSQL*"])
    assert ci.ret == pytest.ExitCode.TESTS_FAILED
