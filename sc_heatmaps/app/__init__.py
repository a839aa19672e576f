"""``sc-heatmaps app``: the heatmap and dual-expression tab as a local web app.

Built on Shiny for Python (the ``app`` extra: ``pip install "sc-heatmaps[app]"``).
Every figure is drawn by the public API (``sch.pl.grouped_heatmap``,
``sch.pl.dual_expression``) and exported by ``plot.savefig``; the page shows the
Python call and the command line that draw the same figure.
"""

from __future__ import annotations

import socket
from pathlib import Path

from ._state import AppState, load_state

__all__ = ["AppState", "create_app", "free_port", "load_state", "serve"]


def create_app(state: AppState):
    """The Shiny app serving ``state``.

    Parameters
    ----------
    state
        The data, from :func:`load_state`.

    Returns
    -------
    shiny.App
        The app (run it with :func:`serve` or any ASGI server).
    """
    from shiny import App

    from ._server import make_server
    from ._ui import build_ui

    return App(build_ui(state), make_server(state))


def _quiet_favicon(app):
    """``app``, answering the browser's /favicon.ico with 204 No Content (not a 404)."""

    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/favicon.ico":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    return wrapped


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now (asked from the system)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def serve(
    paths: list[str | Path],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    dataset_names: list[str] | None = None,
    cluster_key: str | None = None,
    dataset_key: str | None = None,
    gene_symbols: str | None = None,
) -> None:
    """Read the inputs and serve the app until interrupted, printing its address.

    Parameters
    ----------
    paths
        One or several ``.h5ad`` files (several are concatenated, labelled by dataset).
    host, port
        Where to listen (default: this computer only); port 0 picks a free port.
    dataset_names, cluster_key, dataset_key, gene_symbols
        See :func:`load_state`.
    """
    import uvicorn

    state = load_state(
        [Path(p) for p in paths],
        dataset_names=dataset_names,
        cluster_key=cluster_key,
        dataset_key=dataset_key,
        gene_symbols=gene_symbols,
    )
    port = port or free_port(host)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"sc-heatmaps app: serving {len(state.inputs)} file(s) at http://{shown}:{port}", flush=True
    )
    app = _quiet_favicon(create_app(state))
    uvicorn.run(app, host=host, port=port, log_level="warning")
