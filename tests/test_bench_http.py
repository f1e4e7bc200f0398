"""bench/http.py's arithmetic: a page's figures over its rounds, its ratio to the login page taken within each."""

import importlib

http_bench = importlib.import_module("bench.http")


def run(rps: float, server: float | None, requests: int = 100) -> dict[str, object]:
    return {
        "requests": requests,
        "rps": rps,
        "p50_ms": 2 * (server or 0),
        "p99_ms": 9.0,
        "non_2xx": 0,
        "server_p50_ms": server,
    }


def test_each_figure_is_the_median_of_the_rounds_and_the_ratio_is_taken_within_each_round() -> None:
    login = [run(400, 4.0), run(200, 8.0), run(200, 8.0)]
    # The later rounds ran while the machine was twice as slow: page and login alike.
    page = [run(40, 30.0), run(20, 60.0), run(22, 28.0)]

    summary = http_bench.rounds_summary(page, login)

    # 0.1, 0.1 and 0.11 in the rounds; the medians of the two pages over all rounds would say 22 / 200.
    assert summary["ratio"] == 0.1
    assert summary["rps"] == 22
    assert summary["server_p50_ms"] == 30.0
    assert summary["server_p50_rounds"] == [30.0, 60.0, 28.0]
    assert summary["requests"] == 300
    assert http_bench.judged({"status": 200, "html_kb": 20.0, **summary}) == ["server time"]


def test_the_login_page_has_no_ratio_to_itself_and_a_round_without_an_answer_is_left_out() -> None:
    login = [run(400, 4.0), run(400, None, requests=0), run(300, 5.0)]

    summary = http_bench.rounds_summary(login, None)

    assert "ratio" not in summary
    assert summary["server_p50_ms"] == 4.5
    assert http_bench.cpu_index_ms() > 0
