"""A real PostgreSQL for the tests: an external one named by an environment variable, or a throwaway one.

`start_postgres()` returns a `PostgresServer` whose `.url` is a SQLAlchemy URL with the psycopg 3 driver.

* If `FLOWCOACH_TEST_POSTGRES_URL` is set, that server is used as it is (and never stopped): the account must
  be allowed to `CREATE DATABASE`, since the tests make one database per test.
* Otherwise a throwaway server is made from the installed server binaries, found on PATH, then under
  `/usr/lib/postgresql/*/bin` (Debian's layout, newest version first), then through `pg_config --bindir`:
  `initdb` into a temporary directory, `pg_ctl start` listening on a free port of 127.0.0.1 only, with its
  unix socket inside that directory, durability switched off for speed (`fsync`, `synchronous_commit`,
  `full_page_writes`), trust authentication so the URL needs no password, and one database
  (`flowcoach_test`). `.stop()` stops the server and removes the directory.

`initdb` refuses to run as root, so under root the server commands run as the `postgres` system user (which
Debian's `postgresql` package creates) and the temporary directory belongs to that user.

Two failures are told apart: `PostgresNotFound` (no server binaries on this machine, the one case where tests
may skip outside CI) and `PostgresUnavailable`, its base class, for a server that exists but cannot be
started or reached, which is always a failure.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

ENV_URL = "FLOWCOACH_TEST_POSTGRES_URL"
DATABASE = "flowcoach_test"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"
DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 60
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be used for the tests; the message says why and what to do."""


class PostgresNotFound(PostgresUnavailable):
    """No PostgreSQL server binaries on this machine (and no `FLOWCOACH_TEST_POSTGRES_URL`)."""


@dataclass
class PostgresServer:
    """A PostgreSQL server for the tests: `.url` to connect as a superuser, `.stop()` when done."""

    url: str
    bindir: Path | None = None
    _root: Path | None = field(default=None, repr=False)
    _run_as: str | None = field(default=None, repr=False)

    @property
    def owned(self) -> bool:
        """Whether this server was started here (and so is stopped and removed by `.stop()`)."""
        return self._root is not None

    def stop(self) -> None:
        """Stop a throwaway server and remove its directory; an external server is left alone."""
        root, self._root = self._root, None
        if root is None or self.bindir is None:
            return
        try:
            if (root / "data" / "postmaster.pid").exists():
                _run(
                    [str(self.bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"],
                    run_as=self._run_as,
                    cwd=root,
                )
        finally:
            shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def running_in_ci() -> bool:
    """Whether this is a CI run (the runner sets `CI=true`), where the PostgreSQL tests must never skip."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def start_postgres() -> PostgresServer:
    """A PostgreSQL server ready for connections (see the module's docstring for where it comes from).

    Raises `PostgresNotFound` when there is no server to be had, `PostgresUnavailable` when one exists but
    does not work.
    """
    external = os.environ.get(ENV_URL, "").strip()
    if external:
        server = PostgresServer(url=external)
        _check_connects(server.url, f"the server named by {ENV_URL}")
        return server
    bindir = find_bindir()
    if bindir is None:
        raise PostgresNotFound(
            "no PostgreSQL server binaries found (initdb/pg_ctl on PATH, in "
            f"{DEBIAN_BINDIRS} or through pg_config --bindir); install them (Debian: apt-get install "
            f"postgresql) or set {ENV_URL}"
        )
    return _start_throwaway(bindir)


def find_bindir() -> Path | None:
    """The directory holding `initdb`, `pg_ctl` and `postgres`: PATH, then Debian's layout, then pg_config."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    candidates.extend(sorted(Path("/").glob(DEBIAN_BINDIRS.lstrip("/")), key=_version_key, reverse=True))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            result = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
            )
            if result.returncode == 0 and result.stdout.strip():
                candidates.append(Path(result.stdout.strip()))
    for candidate in candidates:
        if all(os.access(candidate / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return candidate
    return None


def _version_key(bindir: Path) -> tuple[int, ...]:
    """Sort key of `/usr/lib/postgresql/<version>/bin` by its numeric version (so 15 beats 9.6)."""
    version = bindir.parent.name
    return tuple(int(part) for part in version.split(".") if part.isdigit()) or (0,)


def _start_throwaway(bindir: Path) -> PostgresServer:
    """initdb + pg_ctl start in a fresh temporary directory; the server is stopped again if anything fails."""
    run_as: str | None = None
    uid = gid = -1
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise PostgresUnavailable(
                f"running as root, and initdb refuses root, but there is no {SYSTEM_USER!r} system user to "
                "run the server as (Debian's postgresql package creates it)"
            ) from None
        run_as, uid, gid = SYSTEM_USER, account.pw_uid, account.pw_gid

    root = Path(tempfile.mkdtemp(prefix=f"flowcoach-pg-{os.getpid()}-"))
    if run_as is not None:
        os.chown(root, uid, gid)
    server = PostgresServer(url="", bindir=bindir, _root=root, _run_as=run_as)
    try:
        data = root / "data"
        _run(
            [
                str(bindir / "initdb"),
                "-D", str(data),
                "-U", SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as=run_as,
            cwd=root,
            what="initdb",
        )  # fmt: skip
        socket_dir = root / "socket"
        socket_dir.mkdir()
        if run_as is not None:
            os.chown(socket_dir, uid, gid)
        last_error: PostgresUnavailable | None = None
        for _attempt in range(3):  # the free port can be taken between choosing it and the server binding it
            port = _free_port()
            settings = {**SERVER_SETTINGS, "port": str(port), "unix_socket_directories": f"'{socket_dir}'"}
            with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            try:
                _run(
                    [
                        str(bindir / "pg_ctl"),
                        "-D", str(data),
                        "-l", str(root / "server.log"),
                        "-w", "-t", str(START_TIMEOUT_S),
                        "start",
                    ],
                    run_as=run_as,
                    cwd=root,
                    what="pg_ctl start",
                    log=root / "server.log",
                )  # fmt: skip
            except PostgresUnavailable as error:
                last_error = error
                continue
            break
        else:
            assert last_error is not None
            raise last_error
        admin_url = f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/postgres"
        _check_connects(admin_url, "the throwaway server", create_database=DATABASE)
        server.url = f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"
    except BaseException:
        server.stop()
        raise
    return server


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(
    command: list[str],
    *,
    run_as: str | None,
    cwd: Path,
    what: str | None = None,
    log: Path | None = None,
) -> None:
    """Run a server command (as `run_as` when given); a failure raises with its output and the server log."""
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            user=run_as,
            group=None if run_as is None else pwd.getpwnam(run_as).pw_gid,
            extra_groups=None if run_as is None else [],
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S + 30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise PostgresUnavailable(f"{what or command[0]} could not run: {error}") from error
    if result.returncode != 0:
        details = (result.stdout + result.stderr).strip()
        if log is not None and log.exists():
            details += "\n--- server log ---\n" + log.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise PostgresUnavailable(f"{what or command[0]} failed (exit {result.returncode}):\n{details}")


def _check_connects(url: str, what: str, *, create_database: str | None = None) -> None:
    """Connect once (creating `create_database` if asked): a broken server fails here, with the reason."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
            if create_database is not None:
                connection.execute(text(f'CREATE DATABASE "{create_database}"'))
    except SQLAlchemyError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        raise PostgresUnavailable(f"cannot use {what} ({shown}): {error}") from error
    finally:
        engine.dispose()
