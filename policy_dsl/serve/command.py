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


def register(subparsers) -> None:
    s = subparsers.add_parser("serve", help="判定服务与筛查页面 decision service and screening page")
    s.add_argument("--policies", default="policies", help="规则集所在目录（启动时一次性加载）default ./policies")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
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
    return create_app(os.environ[_ENV_POLICIES], max_body=int(os.environ.get(_ENV_MAX_BODY) or DEFAULT_MAX_BODY))


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .app import DEFAULT_MAX_BODY, create_app
    except ImportError as exc:
        from ..errors import UsageError

        raise UsageError(f"policy serve 需要可选依赖 needs the optional extra: pip install 'policy-dsl[serve]' ({exc.name})") from None
    max_body = args.max_body or DEFAULT_MAX_BODY
    app = create_app(args.policies, max_body=max_body)  # a bad set fails here, before listening
    if args.workers > 1:
        os.environ[_ENV_POLICIES], os.environ[_ENV_MAX_BODY] = os.path.abspath(args.policies), str(max_body)
        uvicorn.run("policy_dsl.serve.command:worker_app", factory=True, workers=args.workers, host=args.host,
                    port=args.port, access_log=False, log_level="warning")
        return 0
    _access_log_to_stderr()
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0
