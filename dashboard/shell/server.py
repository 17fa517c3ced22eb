"""``python -m dashboard.shell.server run dashboard/app.py [Streamlit's options]``: Streamlit's own
command line (``streamlit run ...`` takes the same arguments), with the atlas's guard on links
installed before the server answers anyone (``streamlit_private.install_link_guard``: a link Streamlit
drops for having more than 1,000 parameters gets a notice, in the very first session too).

Every launcher of the atlas starts it this way: ``make run``, ``deploy/serve.py``'s replicas, the
Dockerfile's ``CMD``, and bench/_server.py for the tests and benchmarks.
"""

from __future__ import annotations

import sys

from dashboard.shell.streamlit_private import install_link_guard


def main() -> None:
    install_link_guard()
    from streamlit.web import cli

    sys.exit(cli.main(prog_name="streamlit"))


if __name__ == "__main__":
    main()
