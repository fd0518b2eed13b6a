from facecraft.rigs.sections import run_sections


def test_a_failing_section_is_reported_and_the_rest_still_run():
    report: dict = {}
    seen = []

    def boom():
        raise RuntimeError("no data")

    steps = [("first", lambda: {"x": 1}), ("broken", boom), ("last", lambda: 3)]
    seconds = run_sections(steps, report, name="test", after_each=lambda key, s: seen.append((key, dict(s))))
    assert report == {"first": {"x": 1}, "broken": {"status": "failed: RuntimeError: no data"}, "last": 3}
    assert list(seconds) == ["first", "broken", "last"] and all(v >= 0 for v in seconds.values())
    assert [k for k, _ in seen] == ["first", "broken", "last"] and list(seen[0][1]) == ["first"]
