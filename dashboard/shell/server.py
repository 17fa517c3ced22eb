"""``python -m dashboard.shell.server run dashboard/app.py [Streamlit's options]``: Streamlit's own
command line (``streamlit run ...`` takes the same arguments), with the atlas's guard on links
installed before the server answers anyone (``streamlit_private.install_link_guard``: a link Streamlit
drops for having more than 1,000 parameters gets a notice, in the very first session too), and the
page's HTML carrying what every page needs before its first script run (``install_page_head``): the
stylesheet (base.css), and where the app's root is, so a page's own address, such as a shared link to
``/map``, opens without Streamlit's 0.1 s detour through ``/map/_stcore/health``.

Every launcher of the atlas starts it this way: ``make run``, ``deploy/serve.py``'s replicas, the
Dockerfile's ``CMD``, and bench/_server.py for the tests and benchmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dashboard.core.schema import PAGES
from dashboard.shell.streamlit_private import install_link_guard, install_page_head

BASE_CSS = Path(__file__).resolve().parent / "base.css"  # every page's stylesheet (state.BASE_CSS)


def main() -> None:
    install_link_guard()
    install_page_head(PAGES, stylesheet=BASE_CSS)
    from streamlit.web import cli

    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
