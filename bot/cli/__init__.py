"""The ``flowcoach`` command: one entry point for every process, and the terminal's formatting.

``main.py`` builds the parser and runs file commands (metrics, forecast, charts); ``store.py`` the commands
on the database (db, board, boards, sync); ``replay.py``, ``demo.py``; ``worker.py`` starts the worker and
``serve --with-worker``. Output for a terminal is written here (``report.py``); the work is in
``bot.services``.
"""
