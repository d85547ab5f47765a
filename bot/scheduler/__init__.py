"""The clock: when each board syncs, is checked, gets its digest and weekly review.

APScheduler triggers the jobs; one worker schedules at a time (a database lease, ``lease.py``).
``planner.py`` turns the boards in the database into triggers, ``runner.py`` runs one job (finding the slot
a digest or review is for), ``worker.py`` ties them together. What a job does is a use case
(``bot.services.jobs``); the scheduler never imports Slack or the command line, which hands it the job
bodies (``flowcoach worker`` in ``bot.cli.worker``).

Public API: ``run_worker``, ``WorkerOptions`` (worker.py), ``JobBodies`` (jobs.py). Nothing is imported
here, so ``flowcoach --help`` stays fast.
"""
