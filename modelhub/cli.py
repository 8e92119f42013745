"""The `modelhub` command line: list, validate, show, plugins, schema, chat, agent, serve,
batch, usage, logs.

Configs come from `--config PATH` (repeatable) or the MODELHUB_CONFIG variable.
Errors are printed without a traceback: exit 1 for a modelhub error, 2 for usage.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

try:
    import click
except ImportError:  # pragma: no cover - depends on the install
    sys.exit("the modelhub command line needs click: pip install 'modelhub[cli]'")

from modelhub.errors import ConfigError, MissingDependencyError, ModelhubError
from modelhub.registry import CONFIG_ENV_VAR, Registry

__all__ = ["main"]


def _load(sources: tuple[str, ...]) -> Registry:
    registry = Registry()
    if sources:
        registry.init(list(sources))
    elif os.environ.get(CONFIG_ENV_VAR):
        registry.init()
    else:
        raise click.UsageError(f"no configs: pass --config PATH or set {CONFIG_ENV_VAR}")
    return registry


def _registry(ctx: click.Context) -> Registry:
    registry = ctx.obj.get("registry")
    if registry is None:
        registry = _load(ctx.obj["sources"])
        ctx.obj["registry"] = registry
    return registry  # type: ignore[no-any-return]


def _more_sources(ctx: click.Context, _: click.Parameter, value: tuple[str, ...]) -> None:
    """`--config` given after the subcommand adds to those given before it."""
    if value:
        ctx.ensure_object(dict)
        ctx.obj["sources"] = (*ctx.obj.get("sources", ()), *value)


def config_option(command: Any) -> Any:
    """The `--config` option, accepted after the subcommand as well as before it."""
    return click.option("--config", "extra_sources", multiple=True, type=click.Path(),
                        expose_value=False, callback=_more_sources, is_eager=True,
                        help="A config file or folder (repeatable).")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "sources", multiple=True, type=click.Path(),
              help=f"A config file or folder (repeatable); default: ${CONFIG_ENV_VAR}.")
@click.version_option(package_name="modelhub")
@click.pass_context
def cli(ctx: click.Context, sources: tuple[str, ...]) -> None:
    """modelhub: one config file, every model vendor."""
    ctx.ensure_object(dict)
    ctx.obj["sources"] = sources


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the loaded configs and where each came from."""
    registry = _registry(ctx)
    rows = []
    for name in registry.list_configs():
        entry = registry.entry(name)
        cls = registry.wrapper_class(name)
        rows.append({"config_name": name, "model_type": entry.model_type,
                     "model_name": entry.config.model_name, "kind": cls.kind,
                     "capabilities": _capabilities(cls), "source": entry.where()})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    headers = ["config_name", "model_type", "model_name", "kind", "capabilities", "source"]
    cells = [[", ".join(v) if isinstance(v, list) else str(v) for v in (r[h] for h in headers)]
             for r in rows]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)).rstrip())
    for line in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check config files and folders together (a name defined in two of them is an
    error, as init() would say); print every error, exit 1 on any."""
    import os

    from modelhub.config.sources import read_sources

    failure: ConfigError | None = None
    try:
        Registry().init(list(paths))
    except ConfigError as error:
        failure = error
    bad = {os.path.abspath(i.path) for i in (failure.issues if failure else ()) if i.path}
    for path in paths:
        root = os.path.abspath(path)
        if any(b == root or b.startswith(root + os.sep) for b in bad):
            continue
        count = len(read_sources(path)[0])
        click.echo(f"{path}: {count} config{'s' if count != 1 else ''} OK")
    if failure is not None:
        raise failure


@cli.command()
@click.argument("name")
@config_option
@click.pass_context
def show(ctx: click.Context, name: str) -> None:
    """Show one config as YAML, secrets masked."""
    import yaml

    registry = _registry(ctx)
    entry = registry.entry(name)
    [exported] = registry.export(name)
    cls = registry.wrapper_class(name)
    click.echo(f"# source: {entry.where()}")
    click.echo(f"# wrapper: {cls.__module__}:{cls.__qualname__}")
    click.echo(yaml.safe_dump(exported, sort_keys=False, allow_unicode=True).rstrip())


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List the model types: entry points, their distributions, whether each loads."""
    from modelhub import plugins as plugin_registry

    rows: list[dict[str, Any]] = []
    for info in plugin_registry.list_plugins():
        kind, capabilities = None, []
        try:
            cls = plugin_registry.resolve(info.model_type)
            kind, capabilities, status = cls.kind, _capabilities(cls), "ok"
        except ModelhubError as error:
            status = f"error: {error}"
        rows.append({"model_type": info.model_type, "distribution": info.distribution,
                     "version": info.version, "value": info.value, "kind": kind,
                     "capabilities": capabilities, "status": status})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        dist = f"{row['distribution'] or '(run time)'} {row['version'] or ''}".strip()
        click.echo(f"{row['model_type']:<26} {dist:<32} {row['value']}")
        if row["status"] != "ok":
            click.echo(f"{'':<26} {row['status']}")
        else:
            click.echo(f"{'':<26} {row['kind']}: {', '.join(row['capabilities']) or '-'}")


def _capabilities(cls: Any) -> list[str]:
    """What a wrapper class declares it can do, in the order modelhub lists them."""
    from modelhub.wrappers.base import CAPABILITIES

    return [c for c in CAPABILITIES if c in cls.capabilities]


def _config_schema(model_type: str) -> dict[str, Any]:
    from modelhub import plugins as plugin_registry

    schema = plugin_registry.resolve_config(model_type).model_json_schema()
    schema.setdefault("properties", {})["model_type"] = {"const": model_type,
                                                         "title": "Model Type"}
    return schema


def _file_schema() -> dict[str, Any]:
    from modelhub import plugins as plugin_registry

    variants, defs = [], {}
    for model_type in plugin_registry.known_model_types():
        try:
            schema = _config_schema(model_type)
        except ModelhubError as error:
            click.echo(f"warning: skipping {model_type}: {error}", err=True)
            continue
        defs.update(schema.pop("$defs", {}))
        variants.append(schema)
    config = {"oneOf": variants}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "modelhub config file", "$defs": defs,
            "oneOf": [config, {"type": "array", "items": config}]}


@cli.command()
@click.argument("model_type", required=False)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to this file.")
def schema(model_type: str | None, output: str | None) -> None:
    """JSON Schema of one model type's config, or of a whole config file."""
    document = _config_schema(model_type) if model_type else _file_schema()
    text = json.dumps(document, indent=2)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        click.echo(text)


@cli.command()
@click.argument("name")
@click.argument("prompt", required=False)
@click.option("--system", help="A system message.")
@click.option("--no-stream", is_flag=True, help="Wait for the whole answer.")
@click.option("--temperature", type=float)
@click.option("--max-tokens", type=int)
@click.option("--usage", "show_usage", is_flag=True, help="Print token usage to stderr.")
@config_option
@click.pass_context
def chat(ctx: click.Context, name: str, prompt: str | None, system: str | None,
         no_stream: bool, temperature: float | None, max_tokens: int | None,
         show_usage: bool) -> None:
    """Ask a chat model. The answer is streamed as it comes, whatever the config's own
    `stream` setting says; --no-stream waits for the whole of it. Reads the prompt from
    stdin when not given (its trailing newline dropped)."""
    if prompt is None:
        prompt = sys.stdin.read()
        prompt = prompt[:-2] if prompt.endswith("\r\n") else prompt.removesuffix("\n")
    if not prompt.strip():
        raise click.UsageError("empty prompt")
    from modelhub.wrappers.chat import ChatWrapperBase

    registry = _registry(ctx)
    found = registry.get(name)
    if not isinstance(found, ChatWrapperBase):
        raise click.UsageError(_not_chat(name, found.kind))
    model = found
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    kwargs: dict[str, Any] = {}
    if temperature is not None:
        kwargs["temperature"] = temperature
    if max_tokens is not None:
        kwargs["max_tokens"] = max_tokens
    usage = None
    if no_stream:
        response = model(messages, stream=False, **kwargs)
        click.echo(response.text or "")
        usage = response.usage
    else:
        stream = model(messages, stream=True, **kwargs)
        for delta in stream:
            click.echo(delta, nl=False)
        click.echo()
        usage = stream.usage
    if show_usage and usage is not None:
        u = usage
        click.echo(f"usage: {u.input_tokens} in, {u.output_tokens} out, "
                   f"{u.total_tokens} total", err=True)


def _require(modules: tuple[str, ...], extra: str, command: str) -> None:
    """A MissingDependencyError naming the extra unless every module is installed."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingDependencyError(
            f"`modelhub {command}` needs {', '.join(missing)}, which is not installed: "
            f"pip install 'modelhub[{extra}]'", extra=extra)


@cli.command()
@click.argument("names", nargs=-1)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on; anything but loopback exposes the models.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="The port (0: any free one).")
@click.option("--api-key", envvar="MODELHUB_SERVE_KEY", metavar="KEY",
              help="Require this bearer key of every client (default: $MODELHUB_SERVE_KEY).")
@click.option("--timeout", default=600.0, show_default=True,
              type=click.FloatRange(0, min_open=True),
              help="Seconds a model call (a whole stream) may take.")
@click.option("--max-body", default=16 * 1024 * 1024, show_default=True,
              type=click.IntRange(1), help="The largest request body, in bytes.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@config_option
@click.pass_context
def serve(ctx: click.Context, names: tuple[str, ...], host: str, port: int,
          api_key: str | None, timeout: float, max_body: int, log_level: str) -> None:
    """Serve configured models over OpenAI's HTTP API (/v1/models, /v1/chat/completions,
    /v1/embeddings) and AgentScope's POST shape (/llm/). NAMES: the configs to serve
    (default: every chat and embedding config)."""
    _require(("starlette", "uvicorn"), "serve", "serve")
    from modelhub import serve as server

    served = server.served_models(_registry(ctx), names)
    for name, reason in served.skipped.items():
        click.echo(f"not serving {name}: {reason}", err=True)
    if not served.models:
        raise click.UsageError("no chat or embedding model to serve")
    sock = server.bind(host, port)
    if not api_key and not server.is_loopback(host):
        click.echo(f"warning: serving on {host} with no API key: anyone who reaches this "
                   "port can use the models (set --api-key or MODELHUB_SERVE_KEY)", err=True)
    url = server.url_of(sock)
    click.echo(f"modelhub serve: {', '.join(served.models)} at {url}/v1 (OpenAI API) and "
               f"{url}/llm/ (AgentScope POST)")
    sys.stdout.flush()
    limits = server.Limits(max_body=max_body, timeout=timeout)
    server.run(server.create_app(served.models, api_key=api_key or None, limits=limits),
               sock, log_level=log_level)


@cli.command()
@click.argument("name")
@click.argument("input_path", metavar="INPUT.jsonl",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where the answers go (JSON Lines); a rerun skips lines answered there.")
@click.option("--concurrency", "-c", default=16, show_default=True, type=click.IntRange(1),
              help="Requests in flight (per worker with --ray).")
@click.option("--ray", "ray_address", metavar="ADDRESS",
              help="Run on a Ray cluster: its address, or 'auto' for the one on this machine.")
@click.option("--ray-workers", type=click.IntRange(1),
              help="Worker actors with --ray (default: one per CPU of the cluster).")
@click.option("--ray-env", multiple=True, metavar="VAR",
              help="An environment variable to set on the Ray workers too (repeatable).")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@config_option
@click.pass_context
def batch(ctx: click.Context, name: str, input_path: Path, output: Path, concurrency: int,
          ray_address: str | None, ray_workers: int | None, ray_env: tuple[str, ...],
          no_progress: bool) -> None:
    """Ask model NAME one request per line of INPUT.jsonl; answers go to OUTPUT in input
    order, each with its usage or its error. A line is {"messages": [...]} or
    {"prompt": "..."} (embedding models: {"input": ...}), plus an optional "id" and any
    call argument ("temperature", "tools", ...)."""
    if not no_progress:
        _require(("tqdm",), "batch", "batch")
    if ray_address:
        _require(("ray",), "ray", "batch --ray")
    if output.resolve() == input_path.resolve():
        raise click.UsageError("the output file must not be the input file")
    from modelhub.batch import BatchJob, check_kind

    registry = _registry(ctx)
    check_kind(name, registry.wrapper_class(name).kind)
    job = BatchJob(input_path, output, concurrency, progress=not no_progress)
    try:
        if ray_address:
            from modelhub.batch.ray_job import forwarded_env, run_ray, worker_config

            result = run_ray(ray_address, worker_config(registry.entry(name)), job,
                             workers=ray_workers, env=forwarded_env(ray_env))
        else:
            from modelhub.batch import run_local

            result = run_local(registry.get(name), job)
    except KeyboardInterrupt:
        click.echo(f"interrupted: every answer that arrived is in {output}; run the same "
                   "command again to go on", err=True)
        raise
    click.echo(f"{result.answered} of {result.total} lines answered"
               + (f" ({result.skipped} by an earlier run)" if result.skipped else "")
               + f"; answers in {output}", err=True)
    if result.failed:
        raise click.ClickException(f"{result.failed} lines failed (their errors are in "
                                   f"{output}); run the same command again to retry them")
@cli.command()
@click.argument("name")
@click.argument("question")
@click.option("--tools", "tool_sources", multiple=True, metavar="FILE_OR_MODULE",
              help="A Python file or module whose functions are the tools (repeatable; "
                   "file.py:f,g picks some).")
@click.option("--call-model", help="A config that makes the tool calls (NAME reasons).")
@click.option("--max-iterations", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--mode", type=click.Choice(["auto", "native", "text"]), default="auto",
              show_default=True, help="Native tool calls, or the ReAct text protocol.")
@click.option("--system", help="The system prompt.")
@click.option("--no-stream", is_flag=True, help="Print each step once it is complete.")
@config_option
@click.pass_context
def agent(ctx: click.Context, name: str, question: str, tool_sources: tuple[str, ...],
          call_model: str | None, max_iterations: int, mode: str, system: str | None,
          no_stream: bool) -> None:
    """Answer QUESTION with a ReAct agent on config NAME, printing each step (thought,
    action, observation, answer) as it happens."""
    from modelhub.agents.console import build_agent, print_run

    registry = _registry(ctx)
    try:
        built = build_agent(registry, name, tool_sources, call_model=call_model,
                            max_iterations=max_iterations, mode=mode,  # type: ignore[arg-type]
                            system=system)
    except (ImportError, OSError, AttributeError, TypeError, ValueError) as error:
        if isinstance(error, ModelhubError):
            raise
        raise click.UsageError(str(error)) from error
    print_run(built, question, stream=not no_stream, echo=click.echo, style=click.style)


def _log_files(ctx: click.Context, given: tuple[str, ...]) -> list[str]:
    """The log files to read: those given, else those the loaded configs write to."""
    if given:
        return list(given)
    from modelhub.calls.report import log_paths

    registry = _registry(ctx)
    paths = log_paths(registry.entry(n).config for n in registry.list_configs())
    if not paths:
        raise click.UsageError("no invocation log: pass --log PATH, or load configs that "
                               "have `log: path`")
    return [p for p in paths if os.path.exists(p)] or paths[:1]


_LOG_OPTION = click.option(
    "--log", "logs", multiple=True, type=click.Path(dir_okay=False),
    help="An invocation log file (repeatable); default: those of the loaded configs.")


@cli.command()
@_LOG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
@click.pass_context
def usage(ctx: click.Context, logs: tuple[str, ...], as_json: bool) -> None:
    """Per-config totals from the invocation logs: calls, errors, input and output
    tokens, mean latency, cost (USD)."""
    from modelhub.calls.calllog import LogFileError
    from modelhub.calls.report import merged_totals, usage_lines

    try:
        totals = merged_totals(_log_files(ctx, logs))
    except FileNotFoundError as error:
        raise click.ClickException(f"no such log file: {error}") from None
    except LogFileError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(totals, indent=2))
    elif not totals:
        click.echo("no calls recorded")
    else:
        click.echo("\n".join(usage_lines(totals)))


@cli.command()
@_LOG_OPTION
@click.option("--search", "-s", help="Only calls whose input, answer, tool calls or error "
                                     "hold this text (case-insensitive).")
@click.option("--model", "config_name", metavar="CONFIG",
              help="Only calls of this config (that answered, or was asked).")
@click.option("--status", type=click.Choice(["ok", "error", "broken", "closed"]))
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Every column of each call, as JSON.")
@config_option
@click.pass_context
def logs(ctx: click.Context, logs: tuple[str, ...], search: str | None,
         config_name: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List and search the recorded calls, newest first."""
    from modelhub.calls.calllog import LogFileError
    from modelhub.calls.calllog import search as search_log
    from modelhub.calls.report import call_lines

    rows: list[dict[str, Any]] = []
    for path in _log_files(ctx, logs):
        try:
            rows += search_log(path, text=search, config_name=config_name, status=status,
                               limit=limit)
        except FileNotFoundError:
            raise click.ClickException(f"no such log file: {path}") from None
        except LogFileError as error:
            raise click.ClickException(str(error)) from None
    rows = sorted(rows, key=lambda r: r["started"], reverse=True)[:limit]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        click.echo("no calls recorded" + (" match" if search or config_name or status else ""))
    else:
        click.echo("\n".join(call_lines(rows)))


_USE_INSTEAD = {
    "embedding": "embed from Python: modelhub.get({name!r})([\"some text\"]).embedding",
    "image": "generate from Python: modelhub.get({name!r})(\"a prompt\").image_urls",
}


def _not_chat(name: str, kind: str) -> str:
    hint = _USE_INSTEAD.get(kind, "call it from Python: modelhub.get({name!r})(...)")
    return (f"config {name!r} is {'an' if kind[0] in 'aeiou' else 'a'} {kind} model, and "
            f"`modelhub chat` talks to chat models; {hint.format(name=name)}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        cli.main(args=argv, prog_name="modelhub", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except ModelhubError as error:
        click.echo(f"error: {error}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
