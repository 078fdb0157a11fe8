"""The ``vigil`` command and its launcher (``vigil up``); see vigil/cli.py."""
