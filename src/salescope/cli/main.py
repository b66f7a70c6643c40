"""The `salescope` command: parse arguments, call services, render results.

Every command takes --workspace (default ./salescope-data or $SALESCOPE_WORKSPACE)
and turns SalescopeError into one sentence on stderr with a non-zero exit;
--debug shows the traceback instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from salescope.cli.progress import RichProgress
from salescope.errors import SalescopeError

app = typer.Typer(
    name="salescope",
    help="Salescope — 采销客户数据分析 / sales & procurement customer analytics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage users (admin).", no_args_is_help=True)
identity_app = typer.Typer(help="Review, merge and split customer (or supplier) identities.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(identity_app, name="customers")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", help="Workspace folder [default: ./salescope-data or $SALESCOPE_WORKSPACE]"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback on errors.")]


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=_json_default) + "\n")


@contextmanager
def _guard(debug: bool) -> Iterator[None]:
    """One sentence instead of a traceback, unless --debug."""
    try:
        yield
    except SalescopeError as exc:
        if debug:
            raise
        err.print(f"[bold red]Error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("Interrupted; nothing half-done was kept.")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            raise
        err.print(
            f"[bold red]Unexpected error:[/] {type(exc).__name__}: {exc}. Run again with --debug for details.",
            highlight=False,
        )
        raise typer.Exit(2) from None


def _workspace(path: Path | None, *, read_only: bool = False) -> Any:
    from salescope.services.workspace import Workspace

    return Workspace(path, read_only=read_only)


def _progress(enabled: bool = True) -> RichProgress:
    return RichProgress(err, enabled=enabled and err.is_terminal)


def _parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise SalescopeError(f"{option} {value!r} is not a date; expected YYYY-MM-DD.") from None


# -- demo ----------------------------------------------------------------------------------------------------------
@app.command()
def demo(
    workspace: WorkspaceOpt = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Do not start the web app afterwards.")] = False,
    scale: Annotated[str, typer.Option(help="small | medium (1M lines) | large (10M lines)")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same data.")] = 0,
    host: Annotated[str, typer.Option(help="Web app host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Web app port.")] = 8000,
    debug: DebugOpt = False,
) -> None:
    """Generate realistic 采销 demo data, import it, analyse it, report, and serve the web app."""
    if scale not in ("small", "medium", "large"):
        err.print(f"[bold red]Error:[/] --scale {scale!r} is not known; expected small, medium or large.")
        raise typer.Exit(1)
    with _guard(debug):
        from salescope.services.demo import run_demo

        ws = _workspace(workspace)
        with _progress() as progress:
            result = run_demo(ws, scale=scale, seed=seed, progress=progress)
        _render_demo(result)
        root = ws.root
        ws.close()
        if not no_serve:
            _serve(root, host, port, admin=True)


def _render_demo(result: Any) -> None:
    from salescope.i18n.numbers import format_compact, format_money

    s = result.summary
    t = Table(title="导入 Imports", show_lines=False)
    for col in ("file", "kind", "rows", "loaded", "duplicates", "quarantined", "skipped"):
        t.add_column(col, justify="right" if col not in ("file", "kind") else "left", no_wrap=True)
    for r in result.imports:
        t.add_row(
            Path(r.file).name,
            r.kind,
            *(str(getattr(r, c)) for c in ("rows", "loaded", "duplicates", "quarantined", "skipped")),
        )
    out.print(t)
    out.print(
        f"销售额 Revenue [bold]{format_compact(s['revenue'], 'zh-CN', money=True)}[/] "
        f"({format_money(s['revenue'], locale='zh-CN')}) · 订单 Orders {s['orders']:,} · "
        f"客户 Customers {s['customers']:,} · {s['first_date']} → {s['last_date']}"
    )
    seg = Table(title="RFM 客户分群 Segments")
    seg.add_column("分群")
    seg.add_column("Segment")
    seg.add_column("客户 Customers", justify="right")
    seg.add_column("销售额 Revenue", justify="right")
    for r in s["segments"]:
        seg.add_row(
            r["segment_zh"], r["segment_en"], f"{r['customers']:,}", format_compact(r["revenue"], "zh-CN", money=True)
        )
    out.print(seg)
    out.print(f"Excel 报告 report: {result.report}")


def _serve(root: Path, host: str, port: int, *, admin: bool = False) -> None:
    from salescope.services.server import serve

    password = None
    if admin:
        from salescope.services.auth import ensure_admin

        ws = _workspace(root)
        password = ensure_admin(ws)
        ws.close()

    def ready(url: str) -> None:
        out.print(f"Salescope web app: [bold]{url}[/]  (Ctrl+C to stop)")
        if password is not None:
            out.print(f"Log in as [bold]admin[/] with the one-time password: [bold]{password}[/]")

    serve(root, host=host, port=port, on_ready=ready)


# -- import --------------------------------------------------------------------------------------------------------
@app.command("import")
def import_(
    files: Annotated[list[Path] | None, typer.Argument(help="Files to import (CSV, TSV, XLSX, XLS, Parquet).")] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            help="sales | customers | products | purchases | suppliers | inventory | opportunities | feedback | targets"
        ),
    ] = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML file mapping source headers to fields.")] = None,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet name.")] = None,
    encoding: Annotated[str | None, typer.Option(help="Override the detected text encoding.")] = None,
    preview: Annotated[
        bool,
        typer.Option(
            "--preview", help="Show what would be read (layout, kind, mapping, sample rows) without writing anything."
        ),
    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="List import batches.")] = False,
    undo: Annotated[str | None, typer.Option("--undo", help="Remove the rows of one batch.")] = None,
    quarantine: Annotated[str | None, typer.Option(help="Export a batch's quarantined rows (with --out).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Where --quarantine writes its CSV.")] = None,
    no_analyze: Annotated[bool, typer.Option("--no-analyze", help="Skip refreshing analyses afterwards.")] = False,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Import exports into the warehouse, accounting for every row."""
    with _guard(debug):
        from salescope.services import importing

        if preview:
            if not files:
                raise SalescopeError("--preview needs a file to look at.")
            shown = [
                importing.preview(None, f, kind=kind, mapping=mapping, sheet=sheet, encoding=encoding) for f in files
            ]
            for p in shown:
                if as_json:
                    _print_json(p)
                else:
                    _render_mapping(p, f"预览 Preview · {Path(str(p['file'])).name}")
                    _table([{k: v for k, v in r.items()} for r in p["parsed"]][:10], "解析结果 Parsed rows")
            return
        ws = _workspace(workspace)
        if list_:
            batches = importing.list_batches(ws)
            if as_json:
                _print_json(batches)
            else:
                _table(batches, "导入批次 Import batches")
            return
        if undo:
            result = importing.undo_batch(ws, undo, user="cli")
            _print_json(result) if as_json else out.print(f"Batch {undo} undone: {result}")
            return
        if quarantine:
            if out_file is None:
                raise SalescopeError("--quarantine needs --out FILE.csv to write the rows to.")
            n = importing.export_quarantine(ws, quarantine, out_file)
            _print_json({"batch_id": quarantine, "rows": n, "file": str(out_file)}) if as_json else out.print(
                f"{n} quarantined rows written to {out_file}; correct them and import that file."
            )
            return
        if not files:
            raise SalescopeError("Give at least one file to import (or --list, --undo BATCH, --quarantine BATCH).")
        results = []
        with _progress(not as_json) as progress:
            for f in files:
                results.append(
                    importing.import_file(
                        ws, f, kind=kind, mapping=mapping, sheet=sheet, encoding=encoding, progress=progress, user="cli"
                    )
                )
            if not no_analyze and any(r.loaded and r.kind == "sales" for r in results):
                from salescope.services.analysis import run_analysis

                run_analysis(ws, progress=progress)
        if as_json:
            for r in results:
                _print_json(r.as_dict())
        else:
            _table([r.as_dict() for r in results], "导入结果 Import results")


def _table(rows: list[dict[str, Any]], title: str) -> None:
    if not rows:
        out.print(f"{title}: (none)")
        return
    t = Table(title=title)
    cols = [c for c in rows[0] if not isinstance(rows[0][c], list | dict)]
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
    out.print(t)


# -- quality -------------------------------------------------------------------------------------------------------
@app.command()
def quality(
    batch: Annotated[str | None, typer.Option("--batch", help="Report on one import batch's rows.")] = None,
    table: Annotated[str | None, typer.Option("--table", help="Report on a whole table (e.g. sales).")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Data quality: completeness by column, invalid values, outliers, suspected duplicates."""
    with _guard(debug):
        from salescope.services.quality import quality_report

        report = quality_report(_workspace(workspace), batch_id=batch, table=table)
        if as_json:
            _print_json(report)
            return
        out.print(f"[bold]{report['table']}[/] · {report['rows']:,} rows" + (f" · batch {batch}" if batch else ""))
        _table(report["completeness"], "完整性 Completeness")
        _table(report["invalid"], "无效值 Invalid values")
        for name, block in report.get("outliers", {}).items():
            out.print(f"异常值 Outliers ({name}): {block.get('count', 0)}")
        dup = report.get("duplicates")
        if dup is not None:
            out.print(f"疑似重复 Suspected duplicates: {dup if not isinstance(dup, dict) else dup.get('count', dup)}")


# -- analyze -------------------------------------------------------------------------------------------------------
@app.command()
def analyze(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Analysis date YYYY-MM-DD [default: day after the last order].")
    ] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compute and materialise all analyses."""
    with _guard(debug):
        from salescope.services.analysis import run_analysis

        ws = _workspace(workspace)
        with _progress(not as_json) as progress:
            result = run_analysis(ws, as_of=_parse_date(as_of, "--as-of"), progress=progress)
        data = {
            "as_of": result.as_of,
            "customers": result.customers,
            "segments": result.segments,
            "steps": result.steps,
        }
        if as_json:
            _print_json(data)
        else:
            out.print(f"Analysed as of {result.as_of}: {result.customers:,} customers.")
            _table([{"segment": k, "customers": v} for k, v in result.segments.items()], "Segments")


# -- sql -----------------------------------------------------------------------------------------------------------
@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read-only SELECT statement.")],
    format_: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Run read-only SQL over the warehouse."""
    with _guard(debug):
        if format_ not in ("table", "json", "csv"):
            raise SalescopeError(f"--format {format_!r} is not known; expected table, json or csv.")
        ws = _workspace(workspace, read_only=True)
        result = ws.warehouse.read_only_query(query)
        rows = result.to_pylist()
        if format_ == "json":
            _print_json(rows)
        elif format_ == "csv":
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(result.column_names)
            from salescope.reports.safety import neutralise

            for r in rows:
                w.writerow([neutralise(v) for v in r.values()])
            sys.stdout.write(buf.getvalue())
        else:
            t = Table()
            for c in result.column_names:
                t.add_column(c)
            for r in rows:
                t.add_row(*("NULL" if v is None else str(v) for v in r.values()))
            out.print(t)


# -- clv -----------------------------------------------------------------------------------------------------------
@app.command()
def clv(
    model: Annotated[str, typer.Option(help="bgnbd | pareto | mbgnbd")] = "bgnbd",
    calibration_end: Annotated[str | None, typer.Option("--calibration-end", help="YYYY-MM-DD")] = None,
    holdout_end: Annotated[str | None, typer.Option("--holdout-end", help="YYYY-MM-DD")] = None,
    period: Annotated[str, typer.Option(help="day | week")] = "week",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Fit a BTYD model (+ Gamma-Gamma spend) and report parameters, holdout fit and CLV."""
    with _guard(debug):
        from salescope.services.clv import run_clv

        if model not in ("bgnbd", "pareto", "mbgnbd"):
            raise SalescopeError(f"--model {model!r} is not known; expected bgnbd, pareto or mbgnbd.")
        if period not in ("day", "week"):
            raise SalescopeError(f"--period {period!r} is not known; expected day or week.")
        ws = _workspace(workspace)
        result = run_clv(
            ws,
            model=model,
            calibration_end=_parse_date(calibration_end, "--calibration-end"),
            holdout_end=_parse_date(holdout_end, "--holdout-end"),
            period=period,
        )
        if as_json:
            _print_json(result)
        else:
            _render_mapping(result, f"CLV · {model}")


def _render_mapping(data: dict[str, Any], title: str) -> None:
    t = Table(title=title)
    t.add_column("key")
    t.add_column("value")
    for k, v in data.items():
        if isinstance(v, dict):
            v = ", ".join(f"{kk}={_short(vv)}" for kk, vv in v.items() if not isinstance(vv, list | dict))
        elif isinstance(v, list):
            v = f"[{len(v)} items]"
        t.add_row(str(k), _short(v))
    out.print(t)


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


# -- forecast ------------------------------------------------------------------------------------------------------
@app.command()
def forecast(
    by: Annotated[str, typer.Option(help="total | category | product | region | customer")] = "total",
    freq: Annotated[str, typer.Option(help="week | month")] = "week",
    horizon: Annotated[int | None, typer.Option(help="Periods ahead [default: 13 weeks or 6 months].")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Forecast revenue with models chosen per series by rolling-origin backtest."""
    with _guard(debug):
        from salescope.services.forecast import run_forecast

        if by not in ("total", "category", "product", "region", "customer"):
            raise SalescopeError(f"--by {by!r} is not known; expected total, category, product, region or customer.")
        if freq not in ("week", "month"):
            raise SalescopeError(f"--freq {freq!r} is not known; expected week or month.")
        ws = _workspace(workspace)
        with _progress(not as_json) as progress:
            result = run_forecast(ws, by=by, freq=freq, horizon=horizon, progress=progress)
        if as_json:
            _print_json(result)
        else:
            _render_mapping(result, f"Forecast · {by} · {freq}")


# -- report --------------------------------------------------------------------------------------------------------
@app.command()
def report(
    out_path: Annotated[Path, typer.Option("--out", help="FILE.xlsx or FILE.html")],
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Write the headline analyses as an Excel workbook (with charts) or an HTML page."""
    with _guard(debug):
        from salescope.services.reports import write_report

        ws = _workspace(workspace)
        path = write_report(ws, out_path)
        out.print(f"Report written: {path}")


# -- serve ---------------------------------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Serve the web app and REST API."""
    with _guard(debug):
        ws = _workspace(workspace)
        root = ws.root
        ws.close()
        _serve(root, host, port)


# -- identities ----------------------------------------------------------------------------------------------------
KindOpt = Annotated[str, typer.Option("--kind", help="customer | supplier")]


@identity_app.command("candidates")
def customers_candidates(
    limit: Annotated[int, typer.Option(help="At most this many pairs.")] = 50,
    kind: KindOpt = "customer",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Pairs of identities that look like one, with evidence and score, for review."""
    with _guard(debug):
        from salescope.services.identity import merge_candidates

        pairs = merge_candidates(_workspace(workspace), limit, kind=kind)
        _print_json(pairs) if as_json else _table(pairs, "疑似重复 Merge candidates")


@identity_app.command("merge")
def customers_merge(
    keep_id: Annotated[str, typer.Argument(help="The identity that stays.")],
    merge_id: Annotated[str, typer.Argument(help="The identity folded into it.")],
    kind: KindOpt = "customer",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Merge two identities (reversible with `customers split`); run `analyze` afterwards."""
    with _guard(debug):
        from salescope.services.identity import merge

        result = merge(_workspace(workspace), keep_id, merge_id, "cli", kind=kind)
        _print_json(result) if as_json else _render_mapping(result, f"Merged {merge_id} → {keep_id}")


@identity_app.command("split")
def customers_split(
    target: Annotated[str, typer.Argument(help="A merge log id, or a source key to give its own identity.")],
    kind: KindOpt = "customer",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Undo a merge (or split one source spelling/code off into its own identity)."""
    with _guard(debug):
        from salescope.services.identity import split

        result = split(_workspace(workspace), target, "cli", kind=kind)
        _print_json(result) if as_json else _render_mapping(result, f"Split {target}")


@identity_app.command("resolve")
def customers_resolve(
    apply: Annotated[bool, typer.Option("--apply", help="Merge the proposals (otherwise only list them).")] = False,
    threshold: Annotated[float, typer.Option(help="Match probability needed to propose a merge.")] = 0.9,
    kind: KindOpt = "customer",
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Probabilistic matching (Splink) over all identities; strong-key conflicts never merge."""
    with _guard(debug):
        from salescope.services.identity import resolve_workspace

        with _progress(not as_json) as progress:
            result = resolve_workspace(
                _workspace(workspace), progress, apply=apply, threshold=threshold, user="cli", kind=kind
            )
        _print_json(result) if as_json else _render_mapping(result, "Entity resolution")


# -- users and tokens ----------------------------------------------------------------------------------------------
@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="admin | analyst | sales | viewer")],
    salesperson: Annotated[str | None, typer.Option(help="For sales users: the salesperson name in the data.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Add a user (a password is generated and printed unless --password-stdin)."""
    import secrets

    with _guard(debug):
        from salescope.services.auth import add_user

        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            generated = False
        else:
            password = secrets.token_urlsafe(12)
            generated = True
        ws = _workspace(workspace)
        add_user(ws, name, role, password, salesperson=salesperson, actor="cli")
        out.print(f"User {name} ({role}) added.")
        if generated:
            out.print(f"Password: {password}")


@user_app.command("list")
def user_list(workspace: WorkspaceOpt = None, as_json: JsonOpt = False, debug: DebugOpt = False) -> None:
    """List users and their roles."""
    with _guard(debug):
        from salescope.services.auth import list_users

        users = list_users(_workspace(workspace))
        _print_json(users) if as_json else _table(users, "用户 Users")


@token_app.command("list")
def token_list(
    name: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    workspace: WorkspaceOpt = None,
    as_json: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List API tokens (never their secrets)."""
    with _guard(debug):
        from salescope.services.auth import list_tokens

        tokens = list_tokens(_workspace(workspace), name)
        _print_json(tokens) if as_json else _table(tokens, "API tokens")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `salescope token list`).")],
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Revoke an API token at once."""
    with _guard(debug):
        from salescope.services.auth import revoke_token

        revoke_token(_workspace(workspace), token_id, actor="cli")
        out.print(f"Token {token_id} revoked.")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
    label: Annotated[str, typer.Option(help="A label to recognise the token by.")] = "cli",
    expires_days: Annotated[int, typer.Option(help="Days until the token expires (0: never).")] = 90,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Create an API token for a user; the token is printed once, on the last line."""
    with _guard(debug):
        from salescope.services.auth import create_token

        ws = _workspace(workspace)
        token = create_token(ws, name, name=label, expires_days=expires_days or None, actor="cli")
        err.print(f"API token for {name} (use as 'Authorization: Bearer TOKEN'):")
        sys.stdout.write(token + "\n")


def main() -> None:
    app()
