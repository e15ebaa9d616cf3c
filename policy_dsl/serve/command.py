"""The `policy serve` command: load the sets, then run uvicorn with our JSON access log.

With --workers N (N > 1) uvicorn runs N processes; each loads the sets once when it starts
(`worker_app`, configured through the environment, the way uvicorn hands settings to workers).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

_ENV_POLICIES, _ENV_MAX_BODY = "POLICY_DSL_SERVE_POLICIES", "POLICY_DSL_SERVE_MAX_BODY"


_EPILOG = """示例 examples:
  policy serve                                  # ./policies 中的全部规则集，http://127.0.0.1:8000/
  policy serve --policies /srv/rules --host 0.0.0.0 --port 8080 --workers 2
  curl -X POST localhost:8000/v1/sets/fushun/evaluate -H 'content-type: application/json' -d @case.json

退出码 exit codes:
  0  服务已正常停止 stopped
  1  规则集有错误，服务未启动 a rule set has errors (not started)
  2  用法错误：目录不存在、目录中没有规则集、缺少可选依赖 usage error (no directory, no set, missing extra)

请求只能按名字指定规则集；规则集只在启动时加载。Sets are named in requests, never given as paths; loaded once at start."""


def register(subparsers) -> None:
    s = subparsers.add_parser("serve", help="判定服务与筛查页面 decision service and screening page",
                              description="HTTP 判定服务（/v1/...，/openapi.json）与逐题筛查页面（/），见 docs/serve.md。",
                              epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--policies", metavar="DIR", default=argparse.SUPPRESS,
                   help="加载此目录中的全部规则集（默认：$POLICY_PATH 或 ./policies）load every set in DIR")
    s.add_argument("--host", default="127.0.0.1", help="监听地址 address to listen on (default 127.0.0.1)")
    s.add_argument("--port", type=int, default=8000, help="端口 port (default 8000)")
    s.add_argument("--max-body", type=int, default=None, dest="max_body",
                   help="请求体上限（字节）request-body cap in bytes (default 65536)")
    s.add_argument("--workers", type=int, default=1, help="进程数 worker processes (default 1)")
    s.set_defaults(func=run)


def _access_log_to_stderr() -> None:
    access = logging.getLogger("policy_dsl.serve.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


def worker_app():
    """The app of one worker process (uvicorn factory)."""
    from .app import DEFAULT_MAX_BODY, create_app

    _access_log_to_stderr()
    from ..sets import ENV

    os.environ[ENV] = os.environ[_ENV_POLICIES]  # the directories the parent process loaded from, in order
    return create_app(None, max_body=int(os.environ.get(_ENV_MAX_BODY) or DEFAULT_MAX_BODY))


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .app import DEFAULT_MAX_BODY, create_app
        from ..sets import search_dirs
        from .registry import load_registry
    except ImportError as exc:
        from ..errors import UsageError

        raise UsageError(f"policy serve 需要可选依赖 needs the optional extra: pip install 'policy-dsl[serve]' ({exc.name})") from None
    max_body = args.max_body or DEFAULT_MAX_BODY
    policies = getattr(args, "policies", None)  # this command's --policies, or the one before the command
    registry = load_registry(policies)  # a bad set fails here, before listening
    app = create_app(registry=registry, max_body=max_body)
    sets = "、".join(sorted(registry.engines))
    print(f"policy serve：已加载规则集 {sets}；筛查页面 http://{args.host}:{args.port}/ ，接口说明 /openapi.json",
          file=sys.stderr, flush=True)
    if args.workers > 1:
        dirs = os.pathsep.join(os.path.abspath(d) for d in search_dirs(policies))
        os.environ[_ENV_POLICIES], os.environ[_ENV_MAX_BODY] = dirs, str(max_body)
        uvicorn.run("policy_dsl.serve.command:worker_app", factory=True, workers=args.workers, host=args.host,
                    port=args.port, access_log=False, log_level="warning")
        return 0
    _access_log_to_stderr()
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0
