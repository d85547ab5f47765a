"""The worker process: when each board syncs, is checked, gets its digest and weekly review.

APScheduler triggers the jobs; one worker schedules at a time (a database lease, ``lease.py``), and each
digest or review slot is claimed in the database before it runs (``jobs.py``), so a failover or a restart
never runs one twice. ``planner.py`` turns the boards in the database into triggers, ``runner.py`` runs one
job, ``worker.py`` ties them together, ``bodies.py`` holds the real sync and the coach's plug points, and
``command.py`` is ``flowcoach worker`` and ``flowcoach serve --with-worker``.

Public API: ``run_worker``, ``WorkerOptions`` (worker.py), ``JobBodies``, ``claimed`` (jobs.py),
``StoreJobBodies``, ``NoCoach`` (bodies.py). Nothing is imported here, so ``flowcoach --help`` stays fast.
"""
