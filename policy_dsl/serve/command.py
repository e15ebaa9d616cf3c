"""The `policy serve` command: load the sets, then run uvicorn with our JSON access log."""
from __future__ import annotations

import argparse
import logging
import sys


def register(subparsers) -> None:
    s = subparsers.add_parser("serve", help="判定服务与筛查页面 decision service and screening page")
    s.add_argument("--policies", default="policies", help="规则集所在目录（启动时一次性加载）default ./policies")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--max-body", type=int, default=None, dest="max_body",
                   help="请求体上限（字节）request-body cap in bytes (default 65536)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .app import DEFAULT_MAX_BODY, create_app
    except ImportError as exc:
        from ..errors import UsageError

        raise UsageError(f"policy serve 需要可选依赖 needs the optional extra: pip install 'policy-dsl[serve]' ({exc.name})") from None

    app = create_app(args.policies, max_body=args.max_body or DEFAULT_MAX_BODY)  # a bad set fails here, before listening
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("policy_dsl.serve.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0
