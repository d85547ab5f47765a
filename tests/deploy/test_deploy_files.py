"""The deployment files agree with the application: image, commands, variables, probes and hardening.

Nothing here builds or runs a container: the Dockerfile, docker-compose.yml, the Kubernetes manifests and
the Procfile are read as text/YAML and checked against `bot.cli.main.build_parser()` and
`bot.config.Settings`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from bot.cli.main import build_parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
KUBERNETES = DEPLOY / "kubernetes"
CONSTRAINTS = "deploy/constraints.txt"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
SECRET_SETTINGS = {
    "DATABASE_URL",
    "FLOWCOACH_SECRET_KEY",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_CLIENT_SECRET",
}


# ---------------------------------------------------------------------------------------------- helpers


def setting_names() -> set[str]:
    """The environment variables `Settings` reads: each field's `validation_alias`."""
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        assert isinstance(alias, str), f"Settings.{name}: expected a plain string validation_alias"
        names.add(alias)
    return names


def subcommand_names() -> set[str]:
    """The top-level `flowcoach` subcommands."""
    parser = build_parser()
    [subparsers] = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return set(subparsers.choices)


def is_flowcoach_command(argv: list[str]) -> bool:
    """True if `flowcoach *argv` names a real subcommand and its arguments parse (required flags given)."""
    if not argv or argv[0] not in subcommand_names():
        return False
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            args = build_parser().parse_args(argv)
        except SystemExit:
            return False
    return callable(getattr(args, "handler", None))


def is_pinned_image(image: str) -> bool:
    """An image reference whose tag names an exact patch version (e.g. 3.11.7-slim), or a digest."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # no tag at all (`registry:5000/x` has a port, not a tag)
        return False
    return tag != "latest" and re.match(r"^\d+\.\d+\.\d+(?:-[\w.-]+)?$", tag) is not None


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def dockerfile_from_images() -> list[str]:
    """The image of every FROM, with the global ARG defaults (declared before the first FROM) substituted."""
    args: dict[str, str] = {}
    images: list[str] = []
    stages: set[str] = set()
    for keyword, rest in dockerfile_instructions():
        if keyword == "ARG" and not images:
            name, _, default = rest.partition("=")
            args[name.strip()] = default.strip()
        elif keyword == "FROM":
            words = [word for word in rest.split() if not word.startswith("--")]
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), words[0])
            if len(words) >= 3 and words[1].upper() == "AS":
                stages.add(words[2])
            images.append(image)
    return [image for image in images if image not in stages]


def after_last_from(keyword: str) -> list[str]:
    """The arguments of every `keyword` instruction of the final (runtime) stage."""
    instructions = dockerfile_instructions()
    last = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    return [rest for kw, rest in instructions[last + 1 :] if kw == keyword]


def dockerfile_env() -> dict[str, str]:
    """The runtime stage's ENV values (`ENV A=1 B=2` form)."""
    env: dict[str, str] = {}
    for rest in after_last_from("ENV"):
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def exec_form(rest: str) -> list[str]:
    value = yaml.safe_load(rest)  # JSON arrays are YAML
    assert isinstance(value, list), f"expected the exec (JSON array) form, got: {rest}"
    return [str(word) for word in value]


def kubernetes_documents() -> dict[str, list[dict[str, Any]]]:
    """Every YAML document under deploy/kubernetes, by file name."""
    return {
        path.name: [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]
        for path in sorted(KUBERNETES.glob("*.yaml"))
    }


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text(encoding="utf-8"))


def manifests() -> list[dict[str, Any]]:
    """The resources kustomization.yaml applies."""
    docs = kubernetes_documents()
    return [doc for name in kustomization()["resources"] for doc in docs[name]]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    if workload["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def workloads() -> list[dict[str, Any]]:
    return [doc for doc in manifests() if doc["kind"] in WORKLOAD_KINDS]


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def kubernetes_argv(container: dict[str, Any]) -> list[str]:
    """The flowcoach arguments a container runs: `args` after the image's ENTRYPOINT ["flowcoach"]."""
    command = container.get("command")
    assert command in (None, ["flowcoach"]), f"{container['name']}: command {command} bypasses flowcoach"
    return [str(word) for word in container.get("args", [])]


def workload_running(subcommand: list[str]) -> dict[str, Any]:
    [match] = [w for w in workloads() if any(kubernetes_argv(c) == subcommand for c in containers(w))]
    return match


def config_objects(kind: str) -> dict[str, dict[str, str]]:
    """ConfigMap or Secret name → its keys and values (data and stringData)."""
    return {
        doc["metadata"]["name"]: {**doc.get("data", {}), **doc.get("stringData", {})}
        for doc in manifests()
        if doc["kind"] == kind
    }


def configured_port() -> int:
    [config] = config_objects("ConfigMap").values()
    return int(config["PORT"])


def resolve_port(port: int | str, container: dict[str, Any]) -> int:
    if isinstance(port, int):
        return port
    [number] = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    return int(number)


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def built_image() -> str:
    """The image name of the compose services built from deploy/Dockerfile (there must be exactly one)."""
    images = set()
    for service in compose()["services"].values():
        build = service.get("build")
        if build is None:
            continue
        context = COMPOSE.parent / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (context / dockerfile).resolve() == DOCKERFILE.resolve()
        images.add(service["image"])
    [image] = images
    return image


def flowcoach_services() -> dict[str, dict[str, Any]]:
    image = built_image()
    return {name: s for name, s in compose()["services"].items() if s.get("image") == image}


def compose_environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {str(key): str(value) for key, value in environment.items()}


def without_interpolation(value: str) -> str:
    """`${VAR:?message}` and `$VAR` replaced by a stand-in, as Compose would substitute them."""
    return re.sub(r"\$\{[^}]*\}|\$\w+", "placeholder", value)


def procfile() -> dict[str, list[str]]:
    entries = {}
    for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = shlex.split(command)
    return entries


# ------------------------------------------------------------------------------------- the checkers


def test_the_command_checker_rejects_what_flowcoach_would_not_run():
    """`is_flowcoach_command` accepts real invocations and rejects unknown or incomplete ones."""
    assert is_flowcoach_command(["serve"])
    assert is_flowcoach_command(["db", "upgrade"])
    assert not is_flowcoach_command(["db"])  # the action is required
    assert not is_flowcoach_command(["server"])
    assert not is_flowcoach_command(["serve", "--no-such-flag"])
    assert not is_flowcoach_command([])


def test_the_pin_checker_rejects_floating_tags():
    """Only an exact patch version (or a digest) counts as pinned."""
    assert is_pinned_image("python:3.11.7-slim-bookworm")
    assert is_pinned_image("postgres:15.10.0")
    assert is_pinned_image("python@sha256:" + "0" * 64)
    for floating in ("python:latest", "python", "python:3.11-slim", "python:3", "registry:5000/python"):
        assert not is_pinned_image(floating), floating


# --------------------------------------------------------------------------------------- Dockerfile


def test_dockerfile_base_images_are_pinned_and_the_same():
    """Both stages start from one base image with an exact patch version, never `latest`."""
    images = dockerfile_from_images()
    assert len(images) >= 2, "expected a multi-stage build"
    assert all(is_pinned_image(image) for image in images), images
    assert len(set(images)) == 1, f"build and runtime stages should share the pinned base: {images}"


def test_dockerfile_runs_as_a_non_root_user():
    """The runtime stage switches to a numeric, non-zero uid (what Kubernetes' runAsNonRoot can verify)."""
    users = after_last_from("USER")
    assert users, "no USER in the runtime stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {users[-1]}: use a numeric non-zero uid"


def test_dockerfile_has_a_healthcheck_on_healthz():
    """A HEALTHCHECK calls /healthz on $PORT (with Python: slim images have no curl)."""
    checks = after_last_from("HEALTHCHECK")
    assert checks and "NONE" not in checks[-1].split()
    assert "/healthz" in checks[-1] and "PORT" in checks[-1]
    assert "curl" not in checks[-1] and "wget" not in checks[-1]


def test_dockerfile_installs_with_the_constraints_file():
    """pip installs the project (not its dev extra) constrained by deploy/constraints.txt, which pins all."""
    installs = [rest for kw, rest in dockerfile_instructions() if kw == "RUN" and "pip install" in rest]
    assert installs, "no pip install in the Dockerfile"
    assert all(f"-c {CONSTRAINTS}" in rest for rest in installs), installs
    assert not any("[dev]" in rest for rest in installs)
    assert any(CONSTRAINTS in rest for kw, rest in dockerfile_instructions() if kw == "COPY")
    constraints = ROOT / CONSTRAINTS
    assert constraints.is_file(), f"{CONSTRAINTS} is missing"
    lines = [line.split("#")[0].strip() for line in constraints.read_text(encoding="utf-8").splitlines()]
    assert all("==" in line for line in lines if line), "every constraint should pin an exact version"


def test_dockerfile_entrypoint_and_default_command():
    """ENTRYPOINT is `flowcoach` and CMD a real subcommand, so one image runs serve, worker and db upgrade."""
    [*_, entrypoint] = after_last_from("ENTRYPOINT")
    [*_, cmd] = after_last_from("CMD")
    assert exec_form(entrypoint) == ["flowcoach"]
    assert is_flowcoach_command(exec_form(cmd)), cmd


def test_dockerfile_exposes_its_port_and_bakes_in_no_secret():
    """EXPOSE matches ENV PORT, PYTHONUNBUFFERED is set, and no secret variable is given a value."""
    env = dockerfile_env()
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert after_last_from("EXPOSE") == [env["PORT"]]
    declared = set()
    for kw, rest in dockerfile_instructions():
        if kw == "ENV":
            declared |= {pair.partition("=")[0] for pair in shlex.split(rest)}
        elif kw == "ARG":
            declared.add(rest.partition("=")[0].strip())
    assert declared & SECRET_SETTINGS == set()


def test_dockerignore_keeps_out_the_repository_noise_but_not_the_build_inputs():
    """.dockerignore drops .git, venvs, tests, benchmarks, caches, databases and .env, not the sources."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for required in (".git", ".venv", "tests", "benchmarks", ".env"):
        assert required in patterns, required
    assert any("__pycache__" in p for p in patterns) and any(p.endswith("*.db") for p in patterns)
    for needed in ("pyproject.toml", "README.md", "bot", "analytics", "deploy", CONSTRAINTS):
        assert not any(fnmatch(needed, p.lstrip("/")) for p in patterns if not p.startswith("!")), needed


# ------------------------------------------------------------------------------------------ Procfile


@pytest.mark.parametrize("process", ["web", "worker", "release"])
def test_procfile_lines_name_real_subcommands(process: str):
    """Each Procfile process runs `flowcoach` with a subcommand the parser knows."""
    command = procfile()[process]
    assert command[0] == "flowcoach" and is_flowcoach_command(command[1:]), command


# ----------------------------------------------------------------------------------- docker-compose


def test_compose_flowcoach_services_run_the_dockerfile_image_with_real_commands():
    """migrate, web and worker run the deploy/Dockerfile image with `db upgrade`, `serve` and `worker`."""
    services = flowcoach_services()
    assert {name: s.get("command") for name, s in services.items()} == {
        "migrate": ["db", "upgrade"],
        "web": ["serve"],
        "worker": ["worker"],
    }
    for name, service in services.items():
        assert is_flowcoach_command(service["command"]), name
        assert service.get("env_file"), f"{name}: expected the settings from an env_file"
        assert service.get("restart"), f"{name}: no restart policy"


def test_compose_other_images_are_pinned():
    """Images pulled rather than built (PostgreSQL) name an exact version."""
    built = built_image()
    for name, service in compose()["services"].items():
        if service.get("image") != built:
            image = service["image"]
            assert is_pinned_image(image) or re.match(r"^postgres:\d+\.\d+(-\w+)?$", image), (name, image)
            assert service.get("restart"), f"{name}: no restart policy"


def test_compose_environment_uses_only_variables_the_app_reads():
    """Every variable set on a flowcoach service is a `Settings` alias (a typo would be silently ignored)."""
    names = setting_names()
    for name, service in flowcoach_services().items():
        assert set(compose_environment(service)) - names == set(), name


def test_compose_database_url_points_at_the_postgres_service():
    """DATABASE_URL is a psycopg URL to the `db` service, which Settings keeps as it is."""
    services = compose()["services"]
    for name, service in flowcoach_services().items():
        url_text = without_interpolation(compose_environment(service)["DATABASE_URL"])
        url = make_url(url_text)
        assert (url.get_backend_name(), url.get_driver_name()) == ("postgresql", "psycopg"), name
        assert url.host in services and services[url.host]["image"].startswith("postgres:")
        assert Settings(DATABASE_URL=url_text).database_url == url_text
        postgres_env = compose_environment(services[url.host])
        assert (url.username, url.database) == (postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_DB"])


def test_compose_startup_order_and_healthchecks():
    """The database is healthy (pg_isready) before migrate; web and worker wait for migrate to succeed."""
    services = compose()["services"]
    db = services["db"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(str(volume).endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy", name
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
    assert "3000" in str(services["web"]["ports"])
    for name in ("migrate", "worker"):  # the image's HEALTHCHECK is HTTP, which only `serve` answers
        assert services[name]["healthcheck"] == {"disable": True}, name


# -------------------------------------------------------------------------------------- Kubernetes


def test_kustomization_lists_every_manifest_and_one_image():
    """kustomization.yaml applies every file in the folder and overrides a single image name."""
    files = {path.name for path in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization()["resources"]) == files
    [image] = kustomization()["images"]
    assert image["name"] and (image.get("newTag") or image.get("digest"))
    for doc in manifests():
        assert "namespace" not in doc["metadata"], f"{doc['kind']} {doc['metadata']['name']}"


def test_every_kubernetes_container_runs_the_image_with_a_real_command():
    """Each container runs the kustomization's image with the arguments of a flowcoach subcommand."""
    [image] = kustomization()["images"]
    seen = []
    for workload in workloads():
        for container in containers(workload):
            assert container["image"] == image["name"], container["name"]
            argv = kubernetes_argv(container)
            assert is_flowcoach_command(argv), (workload["metadata"]["name"], argv)
            seen.append(argv)
    assert sorted(seen) == [["db", "upgrade"], ["serve"], ["worker"]]


def test_kubernetes_environment_uses_only_variables_the_app_reads():
    """Env vars, and the keys of the ConfigMaps and Secrets given by envFrom, are all `Settings` aliases."""
    names = setting_names()
    configmaps, secrets = config_objects("ConfigMap"), config_objects("Secret")
    for key_set in (*configmaps.values(), *secrets.values()):
        assert set(key_set) - names == set()
    for workload in workloads():
        for container in containers(workload):
            assert {var["name"] for var in container.get("env", [])} - names == set()
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert source["configMapRef"]["name"] in configmaps
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in secrets


def test_secret_example_holds_placeholders_only():
    """The example Secret's values are obvious placeholders, and the settings stay out of the ConfigMap."""
    for values in config_objects("Secret").values():
        assert all("REPLACE-ME" in value for value in values.values()), values
    for values in config_objects("ConfigMap").values():
        assert set(values) & SECRET_SETTINGS == set()
    assert config_objects("ConfigMap")["flowcoach-config"]["LOG_FORMAT"] == "json"


def test_web_probes_healthz_on_the_configured_port():
    """serve's readiness and liveness probes GET /healthz on the port that PORT configures."""
    web = workload_running(["serve"])
    assert web["spec"]["replicas"] >= 2
    [container] = [c for c in containers(web) if kubernetes_argv(c) == ["serve"]]
    port = configured_port()
    for probe in ("readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["path"] == "/healthz", probe
        assert resolve_port(check["port"], container) == port, probe
    resources = container["resources"]
    assert resources["requests"] and resources["limits"].get("memory")


def test_web_service_targets_the_web_pods_on_the_configured_port():
    """The Service selects the serve pods and forwards to the port they listen on."""
    web = workload_running(["serve"])
    [container] = containers(web)
    [service] = [doc for doc in manifests() if doc["kind"] == "Service"]
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    [port] = service["spec"]["ports"]
    assert resolve_port(port["targetPort"], container) == configured_port()


def test_worker_stands_by_in_pairs_and_has_no_http_probe():
    """Two workers (leader plus stand-by); neither gets an HTTP probe, since the worker serves none."""
    worker = workload_running(["worker"])
    assert worker["spec"]["replicas"] == 2
    for container in containers(worker):
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert "httpGet" not in container.get(probe, {}), probe
            assert "tcpSocket" not in container.get(probe, {}), probe


def test_migration_job_is_bounded_and_cleaned_up():
    """`db upgrade` runs as a Job with a retry limit and a TTL, never restarting in place."""
    job = workload_running(["db", "upgrade"])
    assert job["kind"] == "Job"
    assert isinstance(job["spec"]["backoffLimit"], int)
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert pod_spec(job)["restartPolicy"] in ("Never", "OnFailure")


def test_every_pod_runs_non_root_with_a_read_only_root_and_a_writable_tmp():
    """runAsNonRoot with the Dockerfile's uid, readOnlyRootFilesystem, and /tmp on an emptyDir."""
    uid = int(after_last_from("USER")[-1].split(":")[0])
    for workload in workloads():
        spec = pod_spec(workload)
        name = workload["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"].get("runAsUser", uid) == uid, name
        empty_dirs = {volume["name"] for volume in spec.get("volumes", []) if "emptyDir" in volume}
        for container in containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert mounts.get("/tmp") in empty_dirs, name
