"""The ``reconcile`` command. The only module that prints or chooses exit codes.

Exit codes: 0 success and nothing to do; 1 error (bad input, API failure); 2 success with
changes present (``drift``, ``plan --detailed-exitcode``); 3 apply refused stale changes;
4 a rollout was rolled back (or a failed rollout still stands); 130 interrupted.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from reconciler import __version__
from reconciler.budget import CONTROL_PLANE_RATE
from reconciler.errors import (
    InputError,
    PreflightError,
    Problem,
    ProblemsError,
    ReconcilerError,
)
from reconciler.github import COMMENT_LIMIT

if TYPE_CHECKING:
    from reconciler.applier import ApplyReport, Result
    from reconciler.live import FunctionTarget, LiveFunction
    from reconciler.manifests import ManifestSet
    from reconciler.plan import Plan
    from reconciler.planner import DesiredFunction
    from reconciler.providers.aws_lambda import AwsLambdaProvider
    from reconciler.providers.clouds import Clouds

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_STALE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
PROGRESS_THRESHOLD = 25  # functions; fewer are read too quickly for a progress bar to help
CALLS_PER_REGION = 8  # in flight at once: keep 15 requests/s flowing at half a second of latency
MAX_CALLS = 32
SANDBOX_VERSIONS_MAX = 1_000  # per function: each is published through moto, a few ms apiece

app = typer.Typer(
    name="reconcile",
    help="Make AWS Lambda and FunctionGraph aliases match the manifests in git: plan, apply, "
    "drift.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: readable at 80 columns, and faster to start
)
sandbox_app = typer.Typer(
    help="The local Lambda and FunctionGraph control plane used by tests and demos."
)
app.add_typer(sandbox_app, name="sandbox")
rollout_app = typer.Typer(help="Rollouts in progress: status, promote, abort, retry.")
app.add_typer(rollout_app, name="rollout")


class Output(str, Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


class Cloud(str, Enum):
    lambda_ = "lambda"
    functiongraph = "functiongraph"


Paths = Annotated[
    list[Path],
    typer.Argument(help="Manifest files or directories (every *.yaml / *.yml, recursively)."),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(help="Region for manifests that name none (default: AWS_REGION / AWS config)."),
]
ProfileOpt = Annotated[str | None, typer.Option(help="AWS profile (default: AWS_PROFILE).")]
EndpointOpt = Annotated[
    str | None,
    typer.Option(help="Lambda/STS endpoint URL, e.g. a sandbox (default: AWS_ENDPOINT_URL)."),
]
SandboxOpt = Annotated[
    bool,
    typer.Option(
        "--sandbox",
        help="Run against an embedded sandbox seeded with the manifests' functions: no AWS needed.",
    ),
]
SandboxSeedOpt = Annotated[
    Path | None,
    typer.Option(help="With --sandbox: also seed it from this file (e.g. aliases already live)."),
]
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="Output format.")]
RateOpt = Annotated[
    float | None,
    typer.Option(
        envvar="RECONCILE_RATE",
        min=0.1,
        show_default=False,
        help="Control-plane requests per second per account and Region (default: 15). AWS allows "
        "15 in all, shared with everything else in the account: lower it when others need some. "
        "An embedded sandbox has no quotas, so --sandbox is unpaced unless this is given.",
    ),
]
MarkdownLimitOpt = Annotated[
    int,
    typer.Option(
        help="Most characters of markdown output (a GitHub comment holds 65,536); a larger plan "
        "is summarised per function. 0: no limit.",
    ),
]


def _account_id(value: str | None) -> str | None:
    from reconciler.contract import ACCOUNT_RE

    if value is not None and ACCOUNT_RE.fullmatch(value) is None:
        raise typer.BadParameter(f"an account ID is 12 digits, not {json.dumps(value)}")
    return value


DefaultAccountOpt = Annotated[
    str | None,
    typer.Option(
        callback=_account_id,
        help="The account of manifests that name none (default: the credentials'). A job for "
        "another account then leaves them alone.",
    ),
]
ProviderOpt = Annotated[
    Cloud | None,
    typer.Option(
        "--provider",
        help="Only the manifests on this cloud; the others are neither read nor touched (a job "
        "with one cloud's credentials: the GitHub workflows pass lambda).",
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        help="Only these aliases: FUNCTION:ALIAS or ACCOUNT/REGION/FUNCTION:ALIAS globs, or "
        "FUNCTION globs for all its aliases (repeatable). The rest is neither read nor touched; "
        "a glob that selects nothing is an error.",
    ),
]


@dataclass(frozen=True)
class Connection:
    region: str | None
    profile: str | None
    endpoint_url: str | None
    sandbox: bool
    sandbox_seed: Path | None
    targets: tuple[str, ...] = ()
    rate: float | None = None  # None: the quotas of what it talks to (AWS: 15/s; a sandbox: none)
    default_account: str | None = None
    provider: Cloud | None = None  # only the manifests on this cloud


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _err_inert(message: str, details: Sequence[str] = ()) -> None:
    """An error that may quote a manifest, a plan file or a server, made inert: a newline of
    theirs is shown as \\n, so no line of ours can be forged (nor a CI runner's ::command::)."""
    from reconciler.render import inert_text

    _err("\n".join([inert_text(message), *(f"  {inert_text(d)}" for d in details)]))


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _version_callback(value: bool) -> None:
    if value:
        print(f"reconcile {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show version."),
    ] = False,
) -> None:
    """Make AWS Lambda and FunctionGraph aliases match the manifests in git: plan, apply, drift."""


# -- commands --------------------------------------------------------------------------------------


@app.command()
def validate(paths: Paths) -> int:
    """Check manifests without calling AWS: syntax, keys, and the service's own rules; and the
    policy file beside them (policy.yaml)."""
    from reconciler.manifests import load_manifests
    from reconciler.render import count
    from reconciler.rollout.policy import load_policies, policy_files

    loaded = load_manifests(paths)
    load_policies(paths)  # as plan reads them: a bad policy fails here, at its line
    policies = sorted({file.name for file in policy_files(paths)})
    aliases = sum(len(m.spec.aliases) for m in loaded.manifests)
    print(
        f"{count(len(loaded.files), 'file')}, {count(len(loaded.manifests), 'function')}, "
        f"{count(aliases, 'alias')}{''.join(f' and {name}' for name in policies)}: valid."
    )
    return EXIT_OK


@app.command()
def schema() -> int:
    """Print the JSON Schema of a manifest (for editors: yaml-language-server)."""
    from reconciler.spec import manifest_schema

    print(json.dumps(manifest_schema(), indent=2))
    return EXIT_OK


@app.command()
def plan(
    paths: Paths,
    output: OutputOpt = Output.text,
    out: Annotated[
        Path | None, typer.Option(help="Save the plan as JSON, for `reconcile apply FILE`.")
    ] = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option(
            "--detailed-exitcode", help="Exit 2 when there are changes (0 when there are none)."
        ),
    ] = False,
    markdown_limit: MarkdownLimitOpt = COMMENT_LIMIT,
    target: TargetOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    sandbox: SandboxOpt = False,
    sandbox_seed: SandboxSeedOpt = None,
    rate: RateOpt = None,
    default_account: DefaultAccountOpt = None,
    cloud: ProviderOpt = None,
) -> int:
    """Show what apply would change. Reads only; writes nothing."""

    connection = Connection(
        region,
        profile,
        endpoint_url,
        sandbox,
        sandbox_seed,
        tuple(target or ()),
        rate,
        default_account,
        cloud,
    )
    if out is not None:
        _check_writable(out, "the plan")
    the_plan = _plan_only(connection, paths)
    sys.stdout.write(_render_plan(the_plan, output, markdown_limit))
    _refuse_missing_functions(the_plan)  # before saving: such a plan could never be applied
    if out is not None:
        _write_plan(out, the_plan)
        shown = " ".join(shlex.quote(str(p)) for p in paths)
        _err(
            f"Saved the plan to {out}; apply exactly it with: reconcile apply "
            f"{shlex.quote(str(out))} --manifests {shown}"
        )
    return EXIT_CHANGES if detailed_exitcode and the_plan.has_changes else EXIT_OK


@app.command()
def apply(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Manifest files or directories, or one plan saved by `plan --out`."),
    ],
    auto_approve: Annotated[
        bool,
        typer.Option(
            "--auto-approve", help="Apply without asking (needed when stdin is not a terminal)."
        ),
    ] = False,
    output: OutputOpt = Output.text,
    report: Annotated[
        Path | None, typer.Option(help="Write every outcome as JSON to this file.")
    ] = None,
    manifests: Annotated[
        list[Path] | None,
        typer.Option(
            help="With a saved plan: refuse it unless these manifests are still the ones it was "
            "planned from (repeatable).",
        ),
    ] = None,
    target: TargetOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    sandbox: SandboxOpt = False,
    sandbox_seed: SandboxSeedOpt = None,
    rate: RateOpt = None,
    default_account: DefaultAccountOpt = None,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="Rollouts: make at most one due step each, then exit 0 while they are in "
            "progress (for scheduled runs), instead of waiting through every bake.",
        ),
    ] = False,
    rollouts_only: Annotated[
        bool,
        typer.Option(
            "--rollouts-only",
            help="Apply nothing but the rollouts already under way (for a scheduled runner: "
            "starting one, like any other change, goes through the approved apply).",
        ),
    ] = False,
    cloud: ProviderOpt = None,
) -> int:
    """Make the aliases match: every write guarded by the RevisionId read at plan time."""
    from reconciler import render
    from reconciler.applier import apply as apply_plan
    from reconciler.plan import Targets
    from reconciler.rollout import report as rollout_report
    from reconciler.rollout.engine import without_rollouts

    connection = Connection(
        region,
        profile,
        endpoint_url,
        sandbox,
        sandbox_seed,
        tuple(target or ()),
        rate,
        default_account,
        cloud,
    )
    if report is not None:
        _check_writable(report, "the apply report")  # before any write, not after them all
    saved = _saved_plan(paths)
    if saved is not None and sandbox:
        raise InputError(
            "a saved plan cannot be applied to an embedded sandbox: a new sandbox has other "
            "RevisionIds, so every change would be stale. Apply it where it was planned"
        )
    if saved is not None and default_account is not None:
        raise InputError("--default-account goes with manifests: a saved plan is resolved already")
    if saved is not None and cloud is not None:
        raise InputError("--provider goes with manifests: a saved plan is made already")
    if manifests:
        _check_planned_from(saved, paths[0], manifests, connection.region)
    with _session(connection, [] if saved else paths) as (provider, loaded):
        from reconciler.rollout.engine import under_way

        only = under_way if rollouts_only else None
        if saved is not None:
            the_plan = Targets(connection.targets).select(saved)
            the_plan = only(the_plan) if only else the_plan
            if not manifests and any(c.rollout is not None for c in the_plan.changes):
                # policy.yaml (a freeze, say) lives beside the manifests: without them a rollout
                # saved before a freeze would start inside it, and no policy would be read
                raise InputError(
                    "the saved plan carries a rollout: apply it with --manifests DIR (the "
                    "folder it was planned from), so that the policy beside them is met"
                )
            _check_plan_accounts(the_plan, provider)
            _check_saved_policies(the_plan, manifests or [])
        else:
            assert loaded is not None
            the_plan = _make_plan(provider, loaded, connection, only=only)
        _err(render.plan_text(the_plan, colour=_colour() and sys.stderr.isatty()).rstrip())
        _refuse_missing_functions(the_plan)
        if the_plan.has_changes and not auto_approve:
            _confirm()  # with nothing to change, apply makes no call: there is nothing to ask
        streamed = output is Output.text  # each outcome as it lands, not all at the end
        with _stop_on_signals() as stopped:
            outcome = apply_plan(
                without_rollouts(the_plan),
                provider,
                workers=_concurrency([c.target for c in the_plan.actions]),
                should_stop=stopped.is_set,
                on_result=_print_outcome if streamed else lambda result: None,
            )
            forgotten = _forget_replaced(outcome, provider)
            rollouts = _drive_rollouts(
                the_plan,
                provider,
                stopped,
                streamed,
                wait=not no_wait,
                hold=_freeze([Path(f) for f in loaded.files] if loaded else list(manifests or [])),
                take_over=not rollouts_only,
            )
    also = rollout_report.headline(rollouts)
    renderers: dict[Output, Callable[[ApplyReport], str]] = {
        # the outcomes were printed as they landed
        Output.text: lambda report: render.apply_tail(report, also=also),
        Output.markdown: lambda report: render.apply_markdown(report, also=also),
        Output.json: lambda report: rollout_report.with_rollouts(report, rollouts),
    }
    sys.stdout.write(renderers[output](outcome))  # the outcomes first, whatever happens next
    sys.stdout.write(rollout_report.render(rollouts, output.value))
    if report is not None:
        try:
            report.write_text(rollout_report.with_rollouts(outcome, rollouts), encoding="utf-8")
        except OSError as exc:
            _err_inert(f"error: {report}: cannot write the apply report: {exc.strerror}")
            return EXIT_ERROR
    for problem in forgotten:
        _err_inert(f"error: {problem}")
    code = rollout_report.combined_exit(_apply_exit_code(outcome), rollouts)
    return EXIT_ERROR if forgotten and code != EXIT_INTERRUPTED else code


def _forget_replaced(outcome: ApplyReport, provider: Clouds) -> list[str]:
    """The records of rollouts that updates made at once have ended are removed."""
    if not any(r.change.replaces is not None for r in outcome.results):
        return []
    from reconciler.rollout.cloud import RolloutClouds
    from reconciler.rollout.engine import forget_replaced

    return forget_replaced(outcome.results, RolloutClouds(provider))


def _drive_rollouts(
    the_plan: Plan,
    provider: Clouds,
    stopped: threading.Event,
    streamed: bool,
    *,
    wait: bool,
    hold: str,
    take_over: bool = True,
) -> list[Any]:
    """Move the plan's rollouts on, side by side, one line per step as it happens."""
    from reconciler.rollout.cloud import RolloutClouds
    from reconciler.rollout.engine import drive, rollout_changes
    from reconciler.rollout.report import progress_line

    def say(change: Any, kind: str, line: str) -> None:
        if streamed:
            print(progress_line(change.address, kind, line), flush=True)

    changes = rollout_changes(the_plan)
    if not changes:  # nothing to move: no Lambda client is needed for it
        return []
    cloud = RolloutClouds(provider)
    return drive(
        changes, provider, cloud, wait=wait, stop=stopped, say=say, hold=hold, take_over=take_over
    )


def _check_saved_policies(the_plan: Plan, manifests: Sequence[Path]) -> None:
    """A saved plan keeps the policies beside its manifests as they are now: a freeze may have
    begun since it was made."""
    from reconciler.rollout.policy import load_policies, policy_problems

    problems = policy_problems(the_plan, [], load_policies(manifests), datetime.now(UTC))
    if problems:
        raise PreflightError(problems)


def _freeze(paths: Sequence[Path]) -> str:
    """Why rollouts under way must hold where they are now (a freeze of a policy), or ""."""
    from reconciler.rollout.policy import frozen_now, load_policies

    freeze = frozen_now(load_policies(paths), datetime.now(UTC)) if paths else None
    if freeze is None:
        return ""
    return f"frozen until {freeze.end.isoformat()}" + (
        f" ({freeze.reason})" if freeze.reason else ""
    )


@app.command()
def drift(
    paths: Paths,
    output: OutputOpt = Output.text,
    target: TargetOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    sandbox: SandboxOpt = False,
    sandbox_seed: SandboxSeedOpt = None,
    rate: RateOpt = None,
    default_account: DefaultAccountOpt = None,
    markdown_limit: MarkdownLimitOpt = COMMENT_LIMIT,
    cloud: ProviderOpt = None,
) -> int:
    """Report where the cloud no longer matches the manifests. Exit 2 when it does not."""
    from reconciler import render

    connection = Connection(
        region,
        profile,
        endpoint_url,
        sandbox,
        sandbox_seed,
        tuple(target or ()),
        rate,
        default_account,
        cloud,
    )
    from reconciler.rollout import report as rollout_report

    with _session(connection, paths) as (provider, loaded):
        assert loaded is not None
        the_plan = _make_plan(provider, loaded, connection)
        the_plan, rollouts = _rollouts_apart(the_plan, provider)
    also = rollout_report.drift_headline(rollouts)
    renderers: dict[Output, Callable[[Plan], str]] = {
        Output.text: lambda p: render.drift_text(p, colour=_colour(), also=also),
        Output.markdown: lambda p: render.drift_markdown(
            p, limit=markdown_limit or None, also=also
        ),
        Output.json: lambda p: rollout_report.drift_json_with(render.drift_json(p), rollouts),
    }
    sys.stdout.write(renderers[output](the_plan))
    sys.stdout.write(rollout_report.drift_rollouts(rollouts, output.value))
    return EXIT_CHANGES if render.drifted(the_plan) else EXIT_OK


def _rollouts_apart(the_plan: Plan, provider: Clouds) -> tuple[Plan, list[Any]]:
    """A rollout in progress or rolled back is not drift: set it apart, with where it stands."""
    from reconciler.rollout.engine import rollout_changes
    from reconciler.rollout.status import apart

    if not rollout_changes(the_plan):
        return the_plan, []
    from reconciler.rollout.cloud import RolloutClouds

    return apart(the_plan, RolloutClouds(provider))


# -- rollouts --------------------------------------------------------------------------------------


@rollout_app.command("status")
def rollout_status(
    paths: Paths,
    output: OutputOpt = Output.text,
    target: TargetOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    sandbox: SandboxOpt = False,
    sandbox_seed: SandboxSeedOpt = None,
    rate: RateOpt = None,
    default_account: DefaultAccountOpt = None,
    cloud: ProviderOpt = None,
) -> int:
    """List the manifests' rollouts in progress and rolled back, with their alarms."""
    from reconciler.rollout import report as rollout_report
    from reconciler.rollout.cloud import RolloutClouds
    from reconciler.rollout.status import status_json, statuses

    connection = Connection(
        region,
        profile,
        endpoint_url,
        sandbox,
        sandbox_seed,
        tuple(target or ()),
        rate,
        default_account,
        cloud,
    )
    with _session(connection, paths) as (provider, loaded):
        assert loaded is not None
        the_plan = _make_plan(provider, loaded, connection, check=False)
        found = statuses(the_plan, RolloutClouds(provider))
    renderers = {
        Output.text: rollout_report.status_text,
        Output.markdown: rollout_report.status_markdown,
        Output.json: status_json,
    }
    sys.stdout.write(renderers[output](found))
    return EXIT_OK


AliasArg = Annotated[
    str, typer.Argument(help="FUNCTION:ALIAS (a function name, partial ARN or ARN, and an alias).")
]


def _alias_at(
    provider: AwsLambdaProvider, text: str, region: str | None
) -> tuple[FunctionTarget, str]:
    from reconciler.contract import parse_function_name, partition_of
    from reconciler.live import FunctionTarget

    try:
        ref = parse_function_name(text)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if ref.qualifier is None:
        raise InputError(f"name the alias too: FUNCTION:ALIAS, not {json.dumps(text)}")
    where = ref.region or region or provider.default_region
    if where is None:
        raise InputError("no Region: pass --region or set AWS_REGION")
    account = ref.account or provider.caller_account()
    return FunctionTarget(account, where, ref.name, partition_of(where)), ref.qualifier


def _fg_alias_at(text: str, region: str | None, project: str | None) -> tuple[FunctionTarget, str]:
    """A FunctionGraph FUNCTION:ALIAS: a function name or URN (without its version), then the
    alias (``!live``, as in an alias URN, is ``live``)."""
    from reconciler import functiongraph as fg
    from reconciler.live import FunctionTarget

    function, colon, name = text.rpartition(":")
    name = name.removeprefix("!")
    if not colon or not function:
        raise InputError(f"name the alias too: FUNCTION:ALIAS, not {json.dumps(text)}")
    try:
        ref = fg.parse_function(function)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    problem = fg.alias_name_problem(name)
    if problem is not None:
        raise InputError(problem)
    where, owner = ref.region or region, ref.project or project
    if where is None:
        raise InputError("no Region: pass --region, or name the function by its URN")
    if owner is None:
        raise InputError(
            "no project: set HUAWEICLOUD_SDK_PROJECT_ID, or name the function by its URN"
        )
    package = ref.package or fg.DEFAULT_PACKAGE
    return FunctionTarget(owner, where, ref.name, "", fg.PROVIDER, package), name


def _by_hand(
    what: str,
    alias: str,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    cloud: Cloud | None = None,
) -> int:
    from reconciler.providers.aws_lambda import AwsLambdaProvider
    from reconciler.render import inert_text
    from reconciler.rollout import status as rollout_status_module
    from reconciler.rollout.cloud import RolloutCloud, RolloutClouds

    handle = getattr(rollout_status_module, what)
    if cloud is Cloud.functiongraph or alias.startswith("urn:fss:"):
        from reconciler.providers.clouds import Clouds
        from reconciler.providers.functiongraph import FunctionGraphProvider

        on_functiongraph = FunctionGraphProvider()
        target, name = _fg_alias_at(alias, region, on_functiongraph.project)
        clouds = Clouds(lambda: None, lambda: on_functiongraph)
        done = handle(clouds, RolloutClouds(clouds), target, name)
    else:
        provider = AwsLambdaProvider(region=region, profile=profile, endpoint_url=endpoint_url)
        target, name = _alias_at(provider, alias, region)
        done = handle(provider, RolloutCloud(provider), target, name)
    print(f"{inert_text(done.address)}: {inert_text(done.message)}")
    return EXIT_OK


AliasCloudOpt = Annotated[
    Cloud | None,
    typer.Option(
        "--provider",
        help="The alias's cloud: lambda (the default), or functiongraph (FUNCTION is then a "
        "FunctionGraph function's name or URN; a URN says so itself).",
    ),
]


@rollout_app.command("promote")
def rollout_promote(
    alias: AliasArg,
    manifests: Annotated[
        list[Path] | None,
        typer.Option(
            help="The manifests' folder (repeatable): a freeze in the policy beside them refuses "
            "the promotion.",
        ),
    ] = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    cloud: AliasCloudOpt = None,
) -> int:
    """Send all the traffic to the new version now, skipping the bakes and gates left."""
    from reconciler.rollout.policy import frozen_by, load_policies

    frozen = frozen_by(load_policies(manifests or []), datetime.now(UTC))
    if frozen is not None:
        raise InputError(f"a promotion is a version change: it {frozen}. Nothing was changed.")
    return _by_hand("promote", alias, region, profile, endpoint_url, cloud)


@rollout_app.command("abort")
def rollout_abort(
    alias: AliasArg,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    cloud: AliasCloudOpt = None,
) -> int:
    """Roll back now to the old version; the rollout stays stopped until a retry."""
    return _by_hand("abort", alias, region, profile, endpoint_url, cloud)


@rollout_app.command("retry")
def rollout_retry(
    alias: AliasArg,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    cloud: AliasCloudOpt = None,
) -> int:
    """Forget a failed rollout, so that the next apply starts it over."""
    return _by_hand("retry", alias, region, profile, endpoint_url, cloud)


@app.command("import")
def import_(
    out_dir: Annotated[Path, typer.Option(help="Directory to write the manifests into.")],
    function: Annotated[
        list[str] | None,
        typer.Option(help="Function name or ARN to import (repeatable)."),
    ] = None,
    all_functions: Annotated[
        bool, typer.Option("--all", help="Import every function of the Region.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite manifests that exist.")] = False,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    endpoint_url: EndpointOpt = None,
    rate: RateOpt = None,
    cloud: Annotated[
        str,
        typer.Option(
            "--provider",
            help="The functions' cloud: lambda, or functiongraph (HUAWEICLOUD_SDK_* credentials; "
            "--region is required).",
        ),
    ] = "lambda",
) -> int:
    """Write one manifest per function from its live aliases: adopt an existing estate."""
    from reconciler import _gc
    from reconciler.contract import parse_function_name
    from reconciler.importer import SCHEMA_FILE, UnwritableError, manifest_text
    from reconciler.live import FunctionTarget
    from reconciler.providers.aws_lambda import AwsLambdaProvider
    from reconciler.spec import manifest_schema

    if bool(function) == all_functions:
        raise InputError("name the functions to import with --function, or pass --all")
    _gc.started()  # reading a whole Region can take a while: its garbage is collected
    provider: Any
    if cloud == "functiongraph":
        provider, targets = _functiongraph_imports(function or [], all_functions, region, rate)
    elif cloud != "lambda":
        raise InputError(f"--provider is lambda or functiongraph, not {json.dumps(cloud)}")
    else:
        provider = AwsLambdaProvider(
            region=region,
            profile=profile,
            endpoint_url=endpoint_url,
            rate=rate or CONTROL_PLANE_RATE,
        )
        account = provider.caller_account()
        default_region = region or provider.default_region
        if default_region is None:
            raise InputError("no Region: pass --region or set AWS_REGION")
        refs = []
        for name in function or []:
            try:
                refs.append(parse_function_name(name))
            except ValueError as exc:
                raise InputError(str(exc)) from None
        if all_functions:
            refs = [parse_function_name(n) for n in provider.list_functions(default_region)]
        targets = [
            FunctionTarget(ref.account or account, ref.region or default_region, ref.name)
            for ref in refs
        ]
    files = {t: out_dir / _manifest_name(t) for t in targets}
    # A symlink, even a dangling one, is a file there: writing would follow it somewhere else.
    existing = sorted(str(p) for p in files.values() if p.is_symlink() or p.exists())
    if existing and not force:
        raise InputError(
            f"these manifests exist already: {', '.join(existing)}. Nothing was written; "
            "pass --force to overwrite them"
        )
    written, skipped, missing, unwritable = [], [], [], []
    texts: dict[FunctionTarget, tuple[str, int]] = {}
    for target in targets:
        live = provider.read_function(target)
        if not live.exists:
            missing.append(target.address)
        elif not live.aliases:
            skipped.append(target.address)
        else:
            try:
                texts[target] = (manifest_text(target, live.aliases), len(live.aliases))
            except UnwritableError as exc:
                unwritable.append(str(exc))
    if missing:
        raise InputError(f"functions not found: {', '.join(missing)}. Nothing was written.")
    if unwritable:
        raise InputError(
            f"{'; '.join(unwritable)}. Nothing was written; change these descriptions live, "
            "then import again"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    schema_file = out_dir / SCHEMA_FILE
    if texts and not (schema_file.is_symlink() or schema_file.exists()):
        schema_file.write_text(json.dumps(manifest_schema(), indent=2) + "\n", encoding="utf-8")
    for target, (text, aliases) in texts.items():
        if files[target].is_symlink():  # --force replaces the link itself, never what it points to
            files[target].unlink()
        files[target].write_text(text, encoding="utf-8")
        written.append(str(files[target]))
        print(f"wrote {files[target]} ({aliases} alias{'es' * (aliases != 1)})")
    for address in skipped:
        _err(f"skipped {address}: it has no aliases")
    print(f"Imported {len(written)} of {len(targets)} functions into {out_dir}.")
    return EXIT_OK


@app.command()
def permissions(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Manifests, to scope the policy to their functions (else every one)."),
    ] = None,
    for_plan: Annotated[
        bool, typer.Option("--plan", help="The read-only policy for plan and drift.")
    ] = False,
    for_apply: Annotated[bool, typer.Option("--apply", help="The policy for apply.")] = False,
    for_rollout: Annotated[
        bool,
        typer.Option(
            "--rollout",
            help="The policy of the scheduled rollout runner (apply --no-wait --rollouts-only).",
        ),
    ] = False,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust-policy",
            help="Print the role's trust policy instead: the GitHub workflows that may assume it "
            "(with --provider functiongraph: the identity provider's identity conversion rules).",
        ),
    ] = False,
    repo: Annotated[
        str | None,
        typer.Option(metavar="OWNER/NAME", help="With --trust-policy: the GitHub repository."),
    ] = None,
    account: Annotated[
        str | None, typer.Option(help="With --trust-policy: the AWS account of the role.")
    ] = None,
    branch: Annotated[
        str, typer.Option(help="With --trust-policy: the branch the trusted workflows run from.")
    ] = "main",
    region: RegionOpt = None,
    default_account: DefaultAccountOpt = None,
    cloud: ProviderOpt = None,
) -> int:
    """Print a least-privilege IAM policy (JSON) for plan/drift or for apply, or with
    --trust-policy the trust policy of its role (README, GitOps setup); with --provider
    functiongraph, the identity conversion rules of Huawei Cloud's identity provider for GitHub.
    Without --region and --default-account, manifests that name no Region or account are scoped
    to any."""
    from reconciler.contract import partition_of
    from reconciler.functiongraph import FunctionGraphSpec
    from reconciler.manifests import load_manifests
    from reconciler.permissions import (
        FunctionGraphScope,
        FunctionScope,
        functiongraph_policy,
        policy,
        trust_policy,
    )
    from reconciler.providers.aws_lambda import AwsLambdaProvider
    from reconciler.providers.functiongraph import FunctionGraphProvider

    if trust and cloud is Cloud.functiongraph:
        # One identity provider per Huawei Cloud account holds the rules of every role.
        from reconciler.permissions import identity_conversion_rules

        roles = [
            r
            for r, on in (("plan", for_plan), ("apply", for_apply), ("rollout", for_rollout))
            if on
        ]
        if not roles:
            raise InputError("choose the roles: --plan, --apply and/or --rollout")
        if paths:
            raise InputError("--trust-policy takes no manifests: it says who may assume the role")
        if repo is None or account is not None:
            raise InputError(
                "the identity conversion rules need --repo OWNER/NAME and no --account: they "
                "belong to the identity provider of the Huawei Cloud account that holds them"
            )
        print(
            json.dumps(identity_conversion_rules(roles, repository=repo, branch=branch), indent=2)
        )
        return EXIT_OK
    if for_plan + for_apply + for_rollout != 1:
        raise InputError("choose one: --plan (read only), --apply or --rollout")
    if trust:
        if paths:
            raise InputError("--trust-policy takes no manifests: it says who may assume the role")
        if repo is None or account is None:
            raise InputError("--trust-policy needs --repo OWNER/NAME and --account ACCOUNT")
        if for_rollout:
            from reconciler.permissions import rollout_trust_policy

            document = rollout_trust_policy(repository=repo, account=account, branch=branch)
        else:
            document = trust_policy(
                apply=for_apply, repository=repo, account=account, branch=branch
            )
        print(json.dumps(document, indent=2))
        return EXIT_OK
    if repo is not None or account is not None:
        raise InputError("--repo and --account go with --trust-policy")
    from reconciler.rollout.permissions import rollout_scopes, statements

    scopes = []
    functiongraph: list[FunctionGraphScope] = []
    manifests = load_manifests(paths).manifests if paths else ()
    on_lambda = [m for m in manifests if not isinstance(m.spec, FunctionGraphSpec)]
    if cloud is None and on_lambda and len(on_lambda) < len(manifests):
        raise InputError(
            "these manifests are on AWS Lambda and on Huawei Cloud FunctionGraph, whose IAMs "
            "take a policy each: pass --provider lambda or --provider functiongraph"
        )
    if cloud is not None:
        wanted = cloud is Cloud.functiongraph
        manifests = tuple(m for m in manifests if isinstance(m.spec, FunctionGraphSpec) == wanted)
        on_lambda = [] if wanted else on_lambda
        if paths and not manifests:
            raise InputError(f"no manifest is on {cloud.value}: check --provider, or the paths")
    fg_rollouts: list[FunctionGraphScope] = []
    fg_hooks: list[FunctionGraphScope] = []  # a hook is a function beside its rollout's
    for manifest in manifests:
        if isinstance(manifest.spec, FunctionGraphSpec):
            fg_ref = manifest.spec.where
            functiongraph.append(
                FunctionGraphScope(
                    fg_ref.name, fg_ref.package or "default", fg_ref.region, manifest.spec.prune
                )
            )
            if any(a.rollout is not None for a in manifest.spec.aliases):
                fg_rollouts.append(functiongraph[-1])
            fg_hooks.extend(
                FunctionGraphScope(hook, fg_ref.package or "default", fg_ref.region)
                for a in manifest.spec.aliases
                if a.rollout is not None and a.rollout.hooks is not None
                for hook in (a.rollout.hooks.before, a.rollout.hooks.after)
                if hook is not None
            )
            continue
        ref = manifest.spec.where
        where, owner = ref.region or region, ref.account or default_account
        partition = ref.partition or (partition_of(where) if where else "aws")
        scopes.append(FunctionScope(ref.name, where, owner, partition, prune=manifest.spec.prune))
    on_huawei = cloud is Cloud.functiongraph or (bool(functiongraph) and not scopes)
    if for_rollout and on_huawei:
        from reconciler.permissions import functiongraph_rollout_policy

        document = functiongraph_rollout_policy(
            FunctionGraphProvider, functions=functiongraph, rollouts=fg_rollouts, hooks=fg_hooks
        )
        print(json.dumps(document, indent=2))
        return EXIT_OK
    if for_rollout:
        from reconciler.rollout.permissions import rollout_policy

        rolled = rollout_scopes(on_lambda, scopes)
        print(json.dumps(rollout_policy(AwsLambdaProvider, rolled, scopes), indent=2))
        return EXIT_OK
    extra = statements(rollout_scopes(on_lambda, scopes), apply=for_apply)
    document = policy(AwsLambdaProvider, apply=for_apply, functions=scopes, extra=extra)
    if on_huawei:  # Huawei Cloud's IAM
        document = functiongraph_policy(
            FunctionGraphProvider,
            apply=for_apply,
            functions=functiongraph,
            rollouts=fg_rollouts,
            hooks=fg_hooks,
        )
    print(json.dumps(document, indent=2))
    return EXIT_OK


@app.command()
def groups(
    paths: Paths,
    region: RegionOpt = None,
    default_account: Annotated[
        str | None,
        typer.Option(
            callback=_account_id,
            help="The account of manifests that name none (the default credentials'): they "
            "belong to its group. Needed when some manifest names none.",
        ),
    ] = None,
    cloud: ProviderOpt = None,
    rollouts: Annotated[
        bool,
        typer.Option(
            "--rollouts",
            help="Only the groups with a rollout in some manifest: the scheduled rollout "
            "runner has nothing to move in the others.",
        ),
    ] = False,
) -> int:
    """Print the manifests' account/Region groups as a GitHub Actions matrix (JSON): one job per
    group, each limited to it with --target. Every function is in exactly one group (on
    FunctionGraph, a project and a Region)."""
    from reconciler.functiongraph import FunctionGraphSpec
    from reconciler.manifests import load_manifests

    found: set[tuple[str, str, Cloud]] = set()
    for manifest in load_manifests(paths, default_region=region).manifests:
        on = Cloud.functiongraph if isinstance(manifest.spec, FunctionGraphSpec) else Cloud.lambda_
        if cloud is not None and on is not cloud:
            continue
        if rollouts and all(getattr(a, "rollout", None) is None for a in manifest.spec.aliases):
            continue
        if isinstance(manifest.spec, FunctionGraphSpec):
            fg_ref = manifest.spec.where
            if fg_ref.project is None or fg_ref.region is None:
                raise InputError(
                    f"{manifest.source}: {manifest.spec.function} names no project or Region; "
                    "set them in the manifest (a FunctionGraph group is a project and a Region)"
                )
            found.add((fg_ref.project, fg_ref.region, on))
            continue
        ref = manifest.spec.where
        where = ref.region or region
        owner = ref.account or default_account
        if where is None or owner is None:
            what, option = (
                ("Region", "--region") if where is None else ("account", "--default-account")
            )
            raise InputError(
                f"{manifest.source}: {manifest.spec.function} names no {what}; set it in the "
                f"manifest, or pass {option} (the {what} of every manifest that names none)"
            )
        found.add((owner, where, on))
    include = [
        {"account": owner, "provider": on.value, "region": where, "target": f"{owner}/{where}/*"}
        for owner, where, on in sorted(found)
    ]
    print(json.dumps({"include": include}))
    return EXIT_OK


@app.command()
def show(
    plan_file: Annotated[Path, typer.Argument(help="A plan saved by `reconcile plan --out`.")],
    output: OutputOpt = Output.text,
    markdown_limit: MarkdownLimitOpt = COMMENT_LIMIT,
) -> int:
    """Show a saved plan, without calling AWS."""
    if not plan_file.is_file():
        raise InputError(f"{plan_file}: no such file")
    saved = _saved_plan([plan_file])
    if saved is None:
        raise InputError(f"{plan_file}: not a plan saved by `reconcile plan --out`")
    sys.stdout.write(_render_plan(saved, output, markdown_limit))
    return EXIT_OK


def _render_plan(the_plan: Plan, output: Output, markdown_limit: int) -> str:
    from reconciler import render
    from reconciler.plan import dumps_plan

    if output is Output.markdown:
        return render.plan_markdown(the_plan, limit=markdown_limit or None)
    if output is Output.json:
        return dumps_plan(the_plan)
    return render.plan_text(the_plan, colour=_colour())


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0: any free port).")
    ] = 0,
    seed: Annotated[Path | None, typer.Option(help="Seed file (YAML) to start from.")] = None,
    aws_quotas: Annotated[
        bool,
        typer.Option(
            "--aws-quotas", help="Throttle as AWS does: 15 req/s shared, GetFunction 100/s."
        ),
    ] = False,
    latency_ms: Annotated[float, typer.Option(help="Latency added to every call.")] = 0.0,
    region: Annotated[str, typer.Option(help="Default Region of seeded functions.")] = "us-east-1",
    account: Annotated[str, typer.Option(help="The account the sandbox is.")] = "123456789012",
) -> int:
    """Serve a local AWS Lambda and FunctionGraph control plane until interrupted. Prints its
    URL first, then (on stderr) the exports that point both clouds' tools at it."""
    from reconciler import _gc

    server = _new_sandbox(port=port, region=region, account=account)
    if seed is not None:
        server.seed_file(seed)
    _gc.started()  # a server lives long: its garbage is collected
    server.aws_quotas(aws_quotas)
    server.set_latency(latency_ms)
    print(server.url, flush=True)
    _err(
        f"Sandbox for account {account} on {server.url} "
        f"(admin: {server.url}/_sandbox/stats). Ctrl-C stops it.\n"
        f"  export AWS_ENDPOINT_URL={server.url} AWS_ACCESS_KEY_ID=sandbox "
        # AWS_DEFAULT_REGION too: the aws CLI v1 (pip install awscli) reads only that one.
        f"AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION={region} AWS_DEFAULT_REGION={region} "
        + _functiongraph_exports(server)
    )
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        server.serve_forever()  # returns on Ctrl-C or SIGTERM
    finally:
        server.stop()
    _err("Sandbox stopped.")
    return EXIT_INTERRUPTED


# -- helpers -------------------------------------------------------------------------------------


def _manifest_name(target: FunctionTarget) -> str:
    """An imported manifest's file name: the function's, with its FunctionGraph package first
    outside ``default`` (two packages may hold functions of one name)."""
    if target.provider == "functiongraph" and target.package != "default":
        return f"{target.package}.{target.name}.yaml"
    return f"{target.name}.yaml"


def _functiongraph_imports(
    names: Sequence[str], all_functions: bool, region: str | None, rate: float | None
) -> tuple[Any, list[FunctionTarget]]:
    """The FunctionGraph provider and the functions ``import --provider functiongraph`` reads:
    by name or URN, in the credentials' project."""
    from reconciler import functiongraph as fg
    from reconciler.live import FunctionTarget
    from reconciler.providers.functiongraph import FunctionGraphProvider

    provider = FunctionGraphProvider(rate=rate or CONTROL_PLANE_RATE)
    project = provider.project
    if project is None:
        raise InputError("no project: set HUAWEICLOUD_SDK_PROJECT_ID")
    if all_functions:
        if region is None:
            raise InputError(
                "--all needs --region: FunctionGraph lists the functions of one Region"
            )
        return provider, provider.list_functions(region)
    targets = []
    for name in names:
        try:
            ref = fg.parse_function(name)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        where = ref.region or region
        if where is None:
            raise InputError(f"no Region for {name}: pass --region, or name it by URN")
        if ref.project not in (None, project):
            raise InputError(
                f"{name} is in project {ref.project}, but the credentials are for {project}"
            )
        package = ref.package or fg.DEFAULT_PACKAGE
        targets.append(FunctionTarget(project, where, ref.name, "", fg.PROVIDER, package))
    return provider, targets


def _functiongraph_exports(server: Any) -> str:
    """The variables that point the Huawei Cloud SDK (and so the tool) at the sandbox: its
    credentials and project, and the endpoint of every Region its functions are in."""
    from reconciler.sandbox.functiongraph import PROJECT

    places = sorted(server.app.functiongraph.places()) or [(PROJECT, "ap-southeast-1")]
    endpoints = " ".join(  # each Region its own endpoint, as on Huawei Cloud
        f"HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_{r.replace('-', '_').upper()}={server.region_url(r)}"
        for r in sorted({r for _, r in places})
    )
    return (
        "HUAWEICLOUD_SDK_AK=sandbox HUAWEICLOUD_SDK_SK=sandbox "
        f"HUAWEICLOUD_SDK_PROJECT_ID={places[0][0]} {endpoints}"
    )


def _new_sandbox(**kwargs: Any) -> Any:
    try:
        from reconciler.sandbox import Sandbox
    except ImportError as exc:
        raise InputError(
            f"the sandbox needs the 'sandbox' extra ({exc.name} is missing): "
            "pip install 'reconciler[sandbox]'"
        ) from None
    return Sandbox(**kwargs)


@contextmanager
def _session(
    connection: Connection, paths: Sequence[Path]
) -> Iterator[tuple[Clouds, ManifestSet | None]]:
    """Load the manifests, then connect: to the clouds, or to an embedded sandbox seeded for
    them (Lambda and FunctionGraph on one port)."""
    from reconciler import _gc
    from reconciler.manifests import load_manifests
    from reconciler.providers.aws_lambda import AwsLambdaProvider
    from reconciler.providers.clouds import Clouds
    from reconciler.providers.functiongraph import FunctionGraphProvider

    if connection.sandbox and connection.endpoint_url:
        raise InputError("--sandbox runs an endpoint of its own: drop --endpoint-url, or --sandbox")
    if connection.sandbox_seed is not None and not connection.sandbox:
        raise InputError("--sandbox-seed seeds the embedded sandbox: add --sandbox, or drop it")
    loaded = load_manifests(paths, default_region=connection.region) if paths else None
    if loaded is not None and connection.provider is not None:
        loaded = _on_cloud(loaded, connection.provider)
    if not connection.sandbox:
        _gc.started()
        yield (
            Clouds(
                lambda: AwsLambdaProvider(
                    region=connection.region,
                    profile=connection.profile,
                    endpoint_url=connection.endpoint_url,
                    rate=connection.rate or CONTROL_PLANE_RATE,
                ),
                lambda: FunctionGraphProvider(rate=connection.rate or CONTROL_PLANE_RATE),
            ),
            loaded,
        )
        return
    region = connection.region or "us-east-1"
    accounts = _manifest_accounts(loaded)
    server = _new_sandbox(region=region, account=accounts[0] if accounts else "123456789012")
    server.start()
    try:
        project = _seed_functiongraph(server, loaded)
        if loaded is not None:
            server.seed_functions(_sandbox_seed(loaded, region))
        if connection.sandbox_seed is not None:
            server.seed_file(connection.sandbox_seed)
        server.reset_stats()
        _gc.started()
        _err(f"Using an embedded sandbox at {server.url} (account {server.account}), not AWS.")
        sandbox_credentials = {"HUAWEICLOUD_SDK_AK": "sandbox", "HUAWEICLOUD_SDK_SK": "sandbox"}
        yield (
            Clouds(
                lambda: AwsLambdaProvider(
                    region=region,
                    endpoint_url=server.url,
                    credentials={
                        "aws_access_key_id": "sandbox",
                        "aws_secret_access_key": "sandbox",
                    },
                    rate=connection.rate,  # None: the embedded sandbox has no quotas
                    botocore_loader=server.botocore_loader,  # models moto has parsed already
                    account=server.account,  # what STS would answer
                ),
                lambda: FunctionGraphProvider(
                    endpoint_url=server.url,
                    rate=connection.rate,
                    environ={**sandbox_credentials, "HUAWEICLOUD_SDK_PROJECT_ID": project},
                ),
            ),
            loaded,
        )
    finally:
        server.stop()


def _seed_functiongraph(server: Any, loaded: ManifestSet | None) -> str:
    """Seed the FunctionGraph functions of the manifests, with the versions they name; the
    sandbox's project (that of the manifests, else the sandbox's own)."""
    from reconciler.functiongraph import LATEST, FunctionGraphSpec
    from reconciler.sandbox.functiongraph import PROJECT, versions_to_seed

    specs = [m.spec for m in loaded.manifests] if loaded is not None else []
    functiongraph = [s for s in specs if isinstance(s, FunctionGraphSpec)]
    project = next((p for s in functiongraph if (p := s.where.project)), PROJECT)
    for spec in functiongraph:
        where = spec.where
        if where.region is None:
            continue  # planning says what is missing
        names = {a.version for a in spec.aliases} | {
            a.routing.version for a in spec.aliases if a.routing is not None
        }
        server.app.functiongraph.add_function(
            where.project or project,
            where.region,
            where.name,
            package=where.package or "default",
            versions=versions_to_seed(names - {LATEST}),
        )
    return project


def _on_cloud(loaded: ManifestSet, cloud: Cloud) -> ManifestSet:
    """The manifests on ``cloud`` only (--provider): the others are neither read nor touched."""
    from dataclasses import replace

    from reconciler.functiongraph import FunctionGraphSpec

    on = [
        m
        for m in loaded.manifests
        if isinstance(m.spec, FunctionGraphSpec) == (cloud is Cloud.functiongraph)
    ]
    if not on:
        raise InputError(f"no manifest is on {cloud.value}: check --provider, or the paths")
    return replace(loaded, manifests=tuple(on))


def _manifest_accounts(loaded: ManifestSet | None) -> list[str]:
    from reconciler.spec import FunctionSpec

    if loaded is None:
        return []
    return sorted(
        {
            a
            for m in loaded.manifests
            if isinstance(m.spec, FunctionSpec) and (a := m.spec.where.account)
        }
    )


def _sandbox_seed(loaded: ManifestSet, region: str) -> list[Any]:
    """Every Lambda function the manifests name, with as many published versions as they
    refer to."""
    from reconciler.contract import LATEST
    from reconciler.sandbox.seed import FunctionSeed, VersionSeed
    from reconciler.spec import FunctionSpec

    seeds = []
    for manifest in loaded.manifests:
        spec = manifest.spec
        if not isinstance(spec, FunctionSpec):
            continue
        versions = [a.version for a in spec.aliases if a.version != LATEST]
        versions += [a.routing.version for a in spec.aliases if a.routing is not None]
        # Compared as text first: a version may have up to 1024 digits.
        highest = max(versions, key=lambda v: (len(v), v), default="1")
        if len(highest) > len(str(SANDBOX_VERSIONS_MAX)) or int(highest) > SANDBOX_VERSIONS_MAX:
            raise InputError(
                f"{manifest.source}: the embedded sandbox publishes at most "
                f"{SANDBOX_VERSIONS_MAX:,} versions of a function, and {spec.name} refers to "
                f"version {highest[:20]}{'...' * (len(highest) > 20)}; run against AWS, or "
                "seed a sandbox of your own (reconcile sandbox serve --seed FILE)"
            )
        seeds.append(
            FunctionSeed(
                name=spec.name,
                region=spec.where.region or region,
                versions=tuple(VersionSeed() for _ in range(int(highest))),
            )
        )
    return seeds


def _plan_only(connection: Connection, paths: Sequence[Path]) -> Plan:
    """Plan the manifests and let go of the connection: nothing will be written."""
    with _session(connection, paths) as (provider, loaded):
        assert loaded is not None
        return _make_plan(provider, loaded, connection)


def _make_plan(
    provider: Clouds,
    loaded: ManifestSet,
    connection: Connection,
    *,
    check: bool = True,
    only: Callable[[Plan], Plan] | None = None,
) -> Plan:
    """Plan the manifests; ``only`` narrows the plan before it is checked (--rollouts-only)."""
    from reconciler.plan import Targets
    from reconciler.planner import check_account, check_project, resolve
    from reconciler.planner import plan as make_plan
    from reconciler.preflight import preflight
    from reconciler.spec import FunctionSpec

    lambdas = sum(isinstance(m.spec, FunctionSpec) for m in loaded.manifests)
    on_functiongraph = len(loaded.manifests) > lambdas
    account = provider.aws_lambda.caller_account() if lambdas else ""
    project = provider.functiongraph.project if on_functiongraph else None
    desired = resolve(
        loaded.manifests,
        default_region=connection.region
        or (provider.aws_lambda.default_region if lambdas else None),
        default_account=connection.default_account or account,
        default_project=project,
    )
    targets = Targets(connection.targets)
    desired = targets.functions(desired, key=lambda d: d.target)
    check_account(desired, account)  # after --target: a job may own one account of many
    check_project(desired, project)
    live = _read_live(provider, desired)
    whole = make_plan(desired, live, manifests_digest=loaded.digest)
    the_plan = targets.select(whole)
    problems: list[Problem] = []
    if any(
        c.may_end_a_rollout or (c.after is not None and c.after.rollout is not None)
        for c in the_plan.changes
    ):
        from reconciler.rollout.cloud import RolloutClouds
        from reconciler.rollout.engine import with_recorded

        hold = _freeze([Path(f) for f in loaded.files])
        the_plan, unreadable = with_recorded(the_plan, RolloutClouds(provider), hold)
        problems += [Problem(c.address, 0, 0, str(error)) for c, error in unreadable]
    if only is not None:
        the_plan = only(the_plan)
    problems += preflight(the_plan, desired, provider, whole=whole) if check else []
    if check:
        from reconciler.rollout.policy import load_policies, policy_problems

        policies = load_policies([Path(f) for f in loaded.files])
        problems += policy_problems(the_plan, desired, policies, datetime.now(UTC))
    if check and any(c.rollout is not None for c in the_plan.changes):
        from reconciler.rollout.cloud import RolloutClouds
        from reconciler.rollout.preflight import rollout_problems

        problems += rollout_problems(the_plan, desired, provider, RolloutClouds(provider))
    if problems:
        raise PreflightError(problems)
    return the_plan.stamped(datetime.now(UTC).isoformat(timespec="seconds"))


def _read_live(
    provider: Clouds, desired: Sequence[DesiredFunction]
) -> dict[FunctionTarget, LiveFunction]:
    """One ListAliases per function, concurrently; the provider's budgets pace the calls."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    targets = [d.target for d in desired]
    workers = _concurrency(targets)
    live: dict[FunctionTarget, LiveFunction] = {}
    with (
        ThreadPoolExecutor(workers, thread_name_prefix="reader") as pool,
        _progress("Reading aliases", len(targets)) as advance,
    ):
        futures = [pool.submit(provider.read_function, t) for t in targets]
        try:
            for future in as_completed(futures):
                result = future.result()
                live[result.target] = result
                advance()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return live


def _concurrency(targets: Sequence[FunctionTarget]) -> int:
    """How many calls to have in flight for these functions: a few per account and Region (each
    has its own budget, which the provider's bucket keeps to), never more than there is work."""
    groups = {(t.account, t.region) for t in targets}
    return max(1, min(MAX_CALLS, CALLS_PER_REGION * len(groups), len(targets)))


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr for long reads on a terminal (or with RECONCILE_PROGRESS=1)."""
    forced = os.environ.get("RECONCILE_PROGRESS") == "1"
    if total < PROGRESS_THRESHOLD or not (forced or sys.stderr.isatty()):
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)


def _refuse_missing_functions(the_plan: Plan) -> None:
    if the_plan.missing_functions:
        names = ", ".join(t.address for t in the_plan.missing_functions)
        raise InputError(
            f"functions not found: {names}. Create them first, or fix the function name, "
            "Region or account in the manifest. Nothing was changed."
        )


def _saved_plan(paths: Sequence[Path]) -> Plan | None:
    """The plan saved in ``paths`` if it is one plan file, else None (they are manifests)."""
    from reconciler.plan import loads_plan

    if len(paths) != 1 or not paths[0].is_file() or paths[0].suffix.lower() in (".yaml", ".yml"):
        return None
    try:
        text = paths[0].read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{paths[0]}: cannot read the plan: {exc}") from None
    return loads_plan(text, source=str(paths[0]))


def _check_planned_from(
    saved: Plan | None, plan_file: Path, manifests: Sequence[Path], region: str | None
) -> None:
    """A saved plan made from other manifests (a later push, another branch) is refused."""
    from reconciler.manifests import load_manifests

    if saved is None:
        raise InputError(
            "--manifests goes with a saved plan: reconcile apply PLANFILE --manifests DIR"
        )
    if load_manifests(manifests, default_region=region).digest != saved.manifests_digest:
        raise InputError(
            f"{plan_file}: the manifests have changed since this plan was made; plan them again. "
            "Nothing was changed."
        )


def _print_outcome(result: Result) -> None:
    from reconciler.render import apply_line

    line = apply_line(result, colour=_colour())
    if line is not None:
        print(line, flush=True)


def _check_writable(path: Path, what: str) -> None:
    """Refuse an output path that cannot be written, before the work that would fill it."""
    folder = path.parent
    if path.is_dir():
        problem = "is a directory"
    elif not folder.is_dir():
        problem = f"{folder} is not a directory"
    elif not os.access(path if path.exists() else folder, os.W_OK):
        problem = "is not writable"
    else:
        return
    raise InputError(f"{path}: cannot write {what} there: {problem}. Nothing was changed.")


def _write_plan(path: Path, the_plan: Plan) -> None:
    from reconciler.plan import dumps_plan

    try:
        path.write_text(dumps_plan(the_plan), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot save the plan: {exc.strerror}") from None


def _check_plan_accounts(the_plan: Plan, provider: Clouds) -> None:
    """A saved plan applies with credentials for its accounts (and FunctionGraph projects)."""
    for cloud, what in (("lambda", "account"), ("functiongraph", "project")):
        owners = {c.target.account for c in the_plan.changes if c.target.provider == cloud}
        if not owners:
            continue
        clouds = provider.cloud(cloud)
        own = clouds.caller_account() if cloud == "lambda" else clouds.project
        others = sorted(owners - {own})
        if others:
            raise InputError(
                f"the plan is for {what} {', '.join(others)}, but the credentials in use are "
                f"for {what} {own}; use credentials for the plan's {what}"
            )


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise InputError(
            "refusing to apply without confirmation: stdin is not a terminal. "
            "Review the plan above and pass --auto-approve."
        )
    if not typer.confirm("Apply these changes?", default=False, err=True):
        raise InputError("Apply cancelled; nothing was changed.")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT / SIGTERM let the call in flight finish, then stop the apply."""
    stopped = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if stopped.is_set():  # a second signal: stop now
            raise KeyboardInterrupt
        stopped.set()
        _err("Stopping after the call in flight; press Ctrl-C again to stop at once.")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopped
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _apply_exit_code(report: ApplyReport) -> int:
    from reconciler.applier import Outcome

    if report.interrupted:
        return EXIT_INTERRUPTED
    if report.count(Outcome.FAILED):
        return EXIT_ERROR
    if report.count(Outcome.STALE):
        return EXIT_STALE
    return EXIT_OK


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run() -> None:
    """The console script. Start-up runs with the cyclic collector paused (reconciler/_gc.py):
    each command says when it has started."""
    from reconciler import _gc

    _gc.pause_startup()
    sys.exit(main())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; the one place where errors become exit codes."""
    try:
        result = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except ProblemsError as exc:
        for problem in exc.problems:
            _err_inert(str(problem))
        count = sum(p.stands_for for p in exc.problems)
        files = len({p.path for p in exc.problems})
        problems = f"{count} problem{'s' * (count != 1)} in {files} file{'s' * (files != 1)}"
        _err(f"{problems}; {exc.consequence}.")
        return EXIT_ERROR
    except ReconcilerError as exc:
        _err_inert(f"error: {exc}", exc.details)
        return EXIT_ERROR
    except (KeyboardInterrupt, typer.Abort):
        _err("Interrupted.")
        return EXIT_INTERRUPTED
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # usage errors: bad input, so exit 1 (2 means changes)
        if isinstance(getattr(exc, "message", None), str):  # typer's validation speaks pydantic
            exc.message = exc.message.removeprefix("Value error, ")
        show: Callable[[], None] | None = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            _err_inert(f"error: {exc}")
        return EXIT_ERROR
    return int(result or 0)
