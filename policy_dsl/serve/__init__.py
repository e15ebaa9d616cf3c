"""`policy serve`: a decision service over HTTP and a screening page that asks, one question at
a time, only what is still needed (docs/serve.md).

    from policy_dsl.serve.app import create_app
    app = create_app("policies")   # an ASGI app; every set loaded, checked and compiled once

Starlette and uvicorn are the optional extra `serve`; the `policy` command imports only
`command` (which needs neither until `policy serve` runs), so other commands work without them.
"""
