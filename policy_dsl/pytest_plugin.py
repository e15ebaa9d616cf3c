"""pytest collects policies/<set>/tests/*.yaml: one item per case, reported as
`file: Test 'name'` with every mismatch, as `policy test` prints them."""
from __future__ import annotations

from pathlib import Path

import pytest

from .errors import PolicyError
from .loader import MANIFEST
from .testing import Case, read_cases, run_case


def pytest_collect_file(parent: pytest.Collector, file_path: Path):
    if file_path.suffix == ".yaml" and file_path.parent.name == "tests" and (file_path.parent.parent / MANIFEST).is_file():
        return PolicyTestFile.from_parent(parent, path=file_path)
    return None


class PolicyTestFile(pytest.File):
    def collect(self):
        for case in read_cases(self.path):
            yield PolicyTestItem.from_parent(self, name=case.name, case=case)


class PolicyTestItem(pytest.Item):
    def __init__(self, *, case: Case, **kwargs) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        mismatches = run_case(self.case)
        if mismatches:
            raise PolicyTestFailure(mismatches)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, PolicyTestFailure):
            body = "\n".join(m.render() for m in excinfo.value.mismatches)
            return f"{self.case.location}: Test '{self.case.name}'\n{body}"
        if isinstance(excinfo.value, PolicyError):
            return f"{self.case.location}: Test '{self.case.name}'\n{excinfo.value.render()}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, self.case.span.line if self.case.span else 0, f"{self.case.name}"


class PolicyTestFailure(Exception):
    def __init__(self, mismatches) -> None:
        super().__init__(f"{len(mismatches)} mismatches")
        self.mismatches = mismatches
