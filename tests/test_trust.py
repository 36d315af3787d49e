"""One function, one owner, whatever its spelling: end to end against the sandbox.

Saved plans are tested in test_plan.py; targets and groups in test_cli.py."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.plan import content_digest
from reconciler.sandbox import Sandbox
from tests.conftest import ACCOUNT, REGION, make_client


@pytest.fixture
def orders(sandbox: Sandbox) -> Sandbox:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {
                    "name": "orders",
                    "versions": 3,
                    "aliases": [{"name": "live", "version": 1}, {"name": "beta", "version": 2}],
                }
            ],
        }
    )
    sandbox.reset_stats()
    return sandbox


# Each pair names one function twice; both files prune, so each would delete the other's alias.
SPELLINGS = [
    pytest.param(
        "function: orders\nregion: eu-west-1\n",
        f"function: arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders\n",
        id="name-and-arn",
    ),
    pytest.param(
        "function: orders\nregion: eu-west-1\n",
        f"function: {ACCOUNT}:function:orders\nregion: eu-west-1\n",
        id="name-and-partial-arn",
    ),
    pytest.param(
        f'function: orders\nregion: eu-west-1\naccount: "{ACCOUNT}"\n',
        "function: orders\nregion: eu-west-1\n",
        id="account-and-none",
    ),
    pytest.param(
        "function: orders\nregion: eu-west-1\n",
        "function: orders\n",
        id="region-and-default-region",
    ),
]


@pytest.mark.parametrize(("first", "second"), SPELLINGS)
@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_one_function_under_two_spellings_is_refused_before_anything_is_read(
    orders: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    first: str,
    second: str,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", REGION)  # the Region of a manifest that names none
    (tmp_path / "a.yaml").write_text(
        first + "prune: true\naliases:\n  - {name: live, version: 2}\n", encoding="utf-8"
    )
    (tmp_path / "b.yaml").write_text(
        "# the same function, spelt otherwise\n"
        + second
        + "prune: true\naliases:\n  - {name: beta, version: 3}\n",
        encoding="utf-8",
    )
    args = [command, str(tmp_path), "--endpoint-url", orders.url]
    code = main([*args, "--auto-approve"] if command == "apply" else args)
    err = capsys.readouterr().err
    assert code == 1
    assert f"{tmp_path / 'b.yaml'}:2:1:" in err
    assert f"{tmp_path / 'a.yaml'}:1:1" in err
    assert f"{ACCOUNT}/{REGION}/orders" in err
    stats = orders.stats()
    assert stats["writes"] == 0
    assert "ListAliases" not in stats["calls"]
    aliases = make_client(orders).list_aliases(FunctionName="orders")["Aliases"]
    assert sorted((a["Name"], a["FunctionVersion"]) for a in aliases) == [
        ("beta", "2"),
        ("live", "1"),
    ]


def test_validate_refuses_what_the_files_alone_show_to_be_one_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(
        f'function: orders\nregion: eu-west-1\naccount: "{ACCOUNT}"\naliases: []\n',
        encoding="utf-8",
    )
    (tmp_path / "b.yaml").write_text(
        f"function: arn:aws:lambda:eu-west-1:{ACCOUNT}:function:orders\naliases: []\n",
        encoding="utf-8",
    )
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'b.yaml'}:1:1:" in err
    assert f"{tmp_path / 'a.yaml'}:1:1" in err


class _HostileService(BaseHTTPRequestHandler):
    """Answers STS truthfully and every Lambda call with an error message meant for a terminal."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = (
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            f"<GetCallerIdentityResult><Account>{ACCOUNT}</Account>"
            "<Arn>arn:aws:iam::123456789012:user/x</Arn><UserId>x</UserId>"
            "</GetCallerIdentityResult></GetCallerIdentityResponse>"
        ).encode()
        self._answer(200, "text/xml", body)

    def do_GET(self) -> None:
        message = "denied\x1b[2J\x1b[1;1H\rOK: nothing to change\u202e\n::error::forged"
        body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
        self._answer(403, "application/json", body, {"x-amzn-ErrorType": "AccessDeniedException"})

    def _answer(
        self, status: int, kind: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": kind, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_error_message_cannot_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(
        "function: orders\nregion: eu-west-1\naliases:\n  - {name: live, version: 1}\n",
        encoding="utf-8",
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert main(["plan", str(tmp_path), "--endpoint-url", url]) == 1
    finally:
        server.shutdown()
    err = capsys.readouterr().err
    assert "AccessDeniedException" in err
    assert not any(c in err for c in "\x1b\r\u202e")
    assert "denied\\x1b[2J\\x1b[1;1H\\rOK: nothing to change\\u202e\\n::error::forged" in err
    assert not any(line.startswith("::") for line in err.splitlines())


def test_plan_json_escapes_what_a_terminal_would_act_on(
    orders: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(
        "function: orders\nregion: eu-west-1\naliases:\n"
        '  - {name: live, version: 2, description: "x\\u202e\\x7f\\u009b2J\\u2028y"}\n',
        encoding="utf-8",
    )
    assert main(["plan", str(tmp_path), "-o", "json", "--endpoint-url", orders.url]) == 0
    out = capsys.readouterr().out
    assert out.isascii()
    assert "x\\u202e\\u007f\\u009b2J\\u2028y" in out


@pytest.mark.parametrize("digits", [4, 1024])
def test_the_embedded_sandbox_refuses_a_version_it_cannot_publish_in_reasonable_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], digits: int
) -> None:
    (tmp_path / "a.yaml").write_text(
        "function: orders\nregion: eu-west-1\naliases:\n"
        f"  - {{name: live, version: {'9' * digits}}}\n",
        encoding="utf-8",
    )
    assert main(["plan", str(tmp_path), "--sandbox"]) == 1
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'a.yaml'}:1:1: the embedded sandbox publishes at most 1,000 versions" in err
    )


def test_a_file_name_cannot_forge_a_line_of_the_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pull request names its files; a newline in a name must not start a line of ours (a CI
    runner reads a line starting ::warning:: as a command)."""
    name = "x\n::warning title=Plan approved::All checks passed\n.yaml"
    (tmp_path / name).write_text("function: fn\nregion: eu-west-1\nbogus: 1\naliases: []\n")
    assert main(["validate", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "bogus" in err
    assert not any(line.startswith("::") for line in err.splitlines())
    assert "x\\n::warning title=Plan approved::All checks passed\\n.yaml:3:1" in err


def test_a_refused_plan_file_lists_each_reason_on_its_own_line(
    orders: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(
        "function: orders\nregion: eu-west-1\nprune: true\n"
        "aliases:\n  - {name: live, version: 2}\n",
        encoding="utf-8",
    )
    saved = tmp_path / "plan.json"
    assert main(["plan", str(tmp_path), "--out", str(saved), "--endpoint-url", orders.url]) == 0
    data = json.loads(saved.read_text(encoding="utf-8"))
    delete = next(c for c in data["changes"] if c["action"] == "delete")
    delete["prune"] = False
    delete["alias"] = "beta\n::error::forged"
    data["digest"] = content_digest(data)
    saved.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert main(["apply", str(saved), "--auto-approve", "--endpoint-url", orders.url]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"error: {saved}: the saved plan cannot be applied:"
    assert all(
        # quoted as JSON in the message, then its backslash escaped on the terminal
        line.startswith('  "123456789012/eu-west-1/orders:beta\\\\n::error::forged": ')
        for line in lines[1:]
    )
    assert any(line.endswith("does not record prune: true for its function") for line in lines)
    assert orders.stats()["writes"] == 0
