"""``python -m tests.mutation [PATH ...]``: mutation testing (mutmut) over paycon's rules.

Each area is mutated with only the tests that cover it, so that a mutant's run stays short:
mutmut runs, for each mutant, only those of the area's tests that call the mutated function.
With no PATH every area is run; a PATH is an area or a module inside one
(``paycon/storage/ledger.py``). At the end, the surviving mutants are counted per module;
``.venv/bin/mutmut show NAME`` shows one, ``.venv/bin/mutmut results`` lists them.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
from collections import Counter
from pathlib import Path

# Area -> the tests that exercise it in-process (a subprocess would not see the mutants).
AREAS: dict[str, list[str]] = {
    "paycon/domain": [
        "tests/unit/domain",
        "tests/unit/test_ids_and_sealing.py",
        "tests/unit/test_config.py",
        "tests/unit/test_openapi_rules.py",
        "tests/integration/test_delivery_rules.py",
        "tests/integration/api/test_notify_urls.py",
    ],
    "gateways/classify.py": [
        "tests/unit/gateways",
    ],
    "paycon/storage": [
        "tests/integration/storage",
        "tests/integration/test_delivery_rules.py",
        "tests/integration/api/test_payments.py",
        "tests/integration/api/test_review.py",
        "tests/integration/api/test_callback_replays.py",
        "tests/integration/api/test_ledger_routes.py",
        "tests/integration/api/test_withdrawal_atomicity.py",
        "tests/integration/api/test_idempotency_across_processes.py",
    ],
    "paycon/usecases": [
        "tests/integration/test_delivery_rules.py",
        "tests/integration/api/test_payments.py",
        "tests/integration/api/test_review.py",
        "tests/integration/api/test_callback_replays.py",
        "tests/integration/api/test_ledger_routes.py",
        "tests/integration/api/test_withdrawal_atomicity.py",
        "tests/integration/api/test_idempotency_across_processes.py",
    ],
}


def _area(path: str) -> str:
    for area in AREAS:
        if path == area or path.startswith(area.rstrip("/") + "/"):
            return area
    raise SystemExit(f"{path} is in no area; areas: {', '.join(AREAS)}")


def _pattern(path: str) -> str:
    return path if path.endswith(".py") else path.rstrip("/") + "/*"


def _module(mutant: str) -> str:
    """``paycon.domain.money.x_parse__mutmut_3`` -> ``paycon/domain/money.py``."""
    dotted = mutant.split("__mutmut_")[0].rsplit(".", 1)[0]
    return dotted.replace(".", "/") + ".py"


def _configure(paths: list[str]) -> None:
    # mutmut reads its configuration from pyproject.toml only; the area's files and tests
    # are set here, before mutmut's entry point is imported (it reads the configuration then).
    import mutmut.configuration as mutmut_config

    tests = sorted({test for path in paths for test in AREAS[_area(path)]})
    mutmut_config._config = dataclasses.replace(
        mutmut_config._load_config(),
        only_mutate=[_pattern(path) for path in paths],
        pytest_add_cli_args_test_selection=tests,
    )


def _start_afresh_unless_same(paths: list[str]) -> None:
    """mutmut keeps its copies of files it found unchanged since its last run, mutated or not;
    a run over other paths must start from new copies."""
    marker = Path("mutants") / "paths.txt"
    wanted = "\n".join(sorted(paths))
    if marker.exists() and marker.read_text() == wanted:
        return
    shutil.rmtree("mutants", ignore_errors=True)
    marker.parent.mkdir()
    marker.write_text(wanted)


def _survivors(paths: list[str]) -> Counter[str]:
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    counts: Counter[str] = Counter()
    wanted = [_pattern(path).rstrip("*") for path in paths]
    for path in walk_mutatable_files():
        if not any(str(path).startswith(prefix) for prefix in wanted):
            continue
        data = SourceFileMutationData(path=path)
        data.load()
        counts[str(path)] += 0
        for exit_code in data.exit_code_by_key.values():
            if status_by_exit_code[exit_code] in ("survived", "no tests"):
                counts[str(path)] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("paths", nargs="*", default=list(AREAS))
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args(argv)
    paths = [path.rstrip("/") for path in args.paths]
    _start_afresh_unless_same(paths)
    _configure(paths)

    from mutmut.__main__ import cli

    cli(["run", "--max-children", str(args.max_children)], standalone_mode=False)
    counts = _survivors(paths)
    print("\nsurviving mutants (incl. those no test reaches), per module:")
    for module, count in sorted(counts.items()):
        print(f"  {count:5d}  {module}")
    print(f"  {sum(counts.values()):5d}  in all")


if __name__ == "__main__":
    main()
