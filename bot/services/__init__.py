"""Use cases: what flowcoach does, called the same way by every edge (the CLI, Slack, the worker).

Each module is one job: ``connections`` (a board's connector, credentials decrypted), ``sync`` (pull a
board's changes into the store), ``metrics`` (a board's metrics now, cached), ``forecasting``, ``charts``,
``proposal`` (a first workflow from a tracker's statuses), ``coaching`` (evaluate a board's rules into
decisions), ``reports`` (digest and weekly review as data), ``replay`` and ``jobs`` (what a scheduled job
does). Services return data; delivering it (a terminal, Slack) is the edge's job, handed in through the
``Notifier`` protocol where a job must speak on its own.
"""
