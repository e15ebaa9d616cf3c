"""The language server, driven over stdio with JSON-RPC as an editor would: diagnostics of
`policy check` published for the opened file's set, and a parameter's citation on hover."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


class Client:
    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "policy_dsl", "lsp"], cwd=cwd,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.next_id = 0

    def send(self, method: str, params: dict, request: bool = False) -> int | None:
        message: dict = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        return message.get("id")

    def read(self) -> dict:
        length = 0
        while True:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            assert line, self.proc.stderr.read().decode()  # type: ignore[union-attr]
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.proc.stdout.read(length))  # type: ignore[union-attr]

    def wait_for(self, predicate) -> dict:
        for _ in range(200):
            message = self.read()
            if predicate(message):
                return message
        raise AssertionError("no such message")

    def request(self, method: str, params: dict) -> dict:
        rid = self.send(method, params, request=True)
        return self.wait_for(lambda m: m.get("id") == rid)

    def close(self) -> None:
        self.request("shutdown", {})
        self.send("exit", {})
        self.proc.wait(timeout=30)


@pytest.fixture
def client(tmp_path: Path):
    c = Client(tmp_path)
    c.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}})
    c.send("initialized", {})
    yield c
    c.close()


def _open(client: Client, file: Path) -> None:
    client.send("textDocument/didOpen", {"textDocument": {"uri": file.as_uri(), "languageId": "yaml", "version": 1,
                                                          "text": file.read_text(encoding="utf-8")}})


def _diagnostics_for(client: Client, file: Path) -> list[dict]:
    message = client.wait_for(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                              and m["params"]["uri"] == file.as_uri())
    return message["params"]["diagnostics"]


def test_opening_a_rule_file_publishes_policy_check_diagnostics_at_their_place(client: Client, tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "mini_province", tmp_path / "mini_province")
    clause = tmp_path / "mini_province" / "clauses" / "stable_job_refund.yaml"
    text = clause.read_text(encoding="utf-8").replace("eligible: 参保 and 裁员率达标", "eligible: 参保 and unit.layof > 0")
    clause.write_text(text, encoding="utf-8")
    line = next(i for i, l in enumerate(text.splitlines()) if "unit.layof > 0" in l)
    _open(client, clause)
    [diag] = _diagnostics_for(client, clause)
    assert diag["message"].startswith("未知的事实 'unit.layof' unknown fact")
    assert "是否要写 did you mean: unit.layoffs？" in diag["message"]
    assert diag["severity"] == 1 and diag["source"] == "policy check"
    column = text.splitlines()[line].index("unit.layof")
    assert diag["range"]["start"] == {"line": line, "character": column}
    assert diag["range"]["end"] == {"line": line, "character": column + len("unit.layof")}


def test_a_clean_file_gets_an_empty_list_and_warnings_are_warnings(client: Client, tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "mini_province", tmp_path / "mini_province")
    clause = tmp_path / "mini_province" / "clauses" / "stable_job_refund.yaml"
    manifest = tmp_path / "mini_province" / "policy-set.yaml"
    _open(client, manifest)
    assert _diagnostics_for(client, manifest) == []
    assert _diagnostics_for(client, clause) == []
    clause.write_text(clause.read_text(encoding="utf-8").replace("parameters:\n", "parameters:\n  没人用: {value: 3}\n", 1),
                      encoding="utf-8")
    client.send("textDocument/didSave", {"textDocument": {"uri": clause.as_uri()}})
    [diag] = _diagnostics_for(client, clause)
    assert diag["severity"] == 2 and diag["message"].startswith("参数 没人用 未被使用")


def test_hover_on_a_parameter_shows_its_value_and_citation(client: Client) -> None:
    clause = ROOT / "policies" / "fushun" / "clauses" / "stable_job_refund.yaml"
    _open(client, clause)
    lines = clause.read_text(encoding="utf-8").splitlines()
    line = next(i for i, l in enumerate(lines) if l.startswith("  大型企业返还比例:"))
    reply = client.request("textDocument/hover", {"textDocument": {"uri": clause.as_uri()},
                                                  "position": {"line": line, "character": 4}})
    value = reply["result"]["contents"]["value"]
    assert value.startswith("**参数 大型企业返还比例**（rate）= 30%")
    assert "范围：≤ 30%" in value
    assert "出处：抚人社发〔2021〕20号 一「大型企业按企业及其职工上年度实际缴纳失业保险费的30%返还」" in value


def test_hover_on_a_fact_path_shows_its_label(client: Client) -> None:
    clause = ROOT / "policies" / "liaoning" / "clauses" / "stable_job_refund.yaml"
    _open(client, clause)
    lines = clause.read_text(encoding="utf-8").splitlines()
    line = next(i for i, l in enumerate(lines) if "unit.layoffs" in l and "expr" in l)
    reply = client.request("textDocument/hover", {"textDocument": {"uri": clause.as_uri()},
                                                  "position": {"line": line, "character": lines[line].index("unit.layoffs") + 6}})
    assert reply["result"]["contents"]["value"] == "**事实 unit.layoffs**：上年度裁员人数（int）"


def test_completion_offers_facts_with_labels_the_clause_items_and_functions(client: Client) -> None:
    clause = ROOT / "policies" / "liaoning-2022" / "clauses" / "stable_job_refund.yaml"
    _open(client, clause)

    def labels(text: str) -> dict[str, dict]:
        # the editor's buffer is what the user typed; the server completes the name before the cursor
        client.send("textDocument/didChange", {"textDocument": {"uri": clause.as_uri(), "version": 2},
                                               "contentChanges": [{"text": f"conditions:\n  x: {text}\n"}]})
        reply = client.request("textDocument/completion", {"textDocument": {"uri": clause.as_uri()},
                                                           "position": {"line": 1, "character": 5 + len(text)}})
        return {item["label"]: item for item in reply["result"]["items"]}

    facts = labels("unit.la")
    assert set(facts) == {"unit.layoffs"} and facts["unit.layoffs"]["detail"] == "事实：上年度裁员人数（int）"
    declared = labels("unit.zom")  # a fact this edition declares in its policy-set.yaml
    assert declared["unit.zombie_enterprise"]["detail"] == "事实：僵尸企业（bool）"
    own = labels("裁员率")  # the clause's own items, bare and qualified
    assert {"裁员率", "裁员率上限", "裁员率达标"} <= set(own)
    assert own["裁员率上限"]["detail"] == "参数 = 5.5%"  # liaoning-2022 lowers 辽人社发〔2021〕7号's 6%
    qualified = labels("stable_job_refund.裁员率上")
    assert set(qualified) == {"stable_job_refund.裁员率上限"}
    assert labels("days")["days_between"]["detail"] == "函数 days_between(d1, d2)"
    assert labels("zzz_no_such") == {}
