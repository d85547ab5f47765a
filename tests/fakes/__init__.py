"""In-process fakes of the services flowcoach talks to, for tests and benchmarks (127.0.0.1 only)."""
