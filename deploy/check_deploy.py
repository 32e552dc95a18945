#!/usr/bin/python3
"""check_deploy.py: structural checks of the deployment files against the rules
they exist to enforce. Run by scripts/check-deploy and by CTest (deploy_check).

  deploy/check_deploy.py [--root DIR] [--compose FILE]   check, exit 1 on any violation
  deploy/check_deploy.py --self-test                      prove each rule catches a broken file

No container engine runs where CI runs, and the compose plugin may be missing,
so `docker compose config` cannot be the only check (scripts/check-deploy runs it
too when it works). These rules are what the seed and issue 6 ask of the
deployment, checked on the merged (anchors resolved) compose model:

compose.yaml
  - services vasd, ruth-ai-core and one per model type (blazeface-front,
    blazeface-back, ppocr-det), each built from the Dockerfiles here
  - every service: read_only, cap_drop ALL, no-new-privileges, a restart
    policy, a non-root user, a healthcheck, a private IPC namespace
  - readers (core and runtimes): network_mode none, /dev/shm from the vas-shm
    volume mounted read-only, the socket volume at /run/ruth-ai, the export
    group in group_add
  - vasd: /dev/shm from vas-shm read-write, a network (RTSP, RTP)
  - vas-shm is tmpfs and at least twice the exports of deploy/config/vasd.yaml
  - a runtime's MODEL_DIR is a model folder with model.yaml; GPU reservations
    only on services built from Dockerfile.runtime-gpu, and at least one
  - compose.cpu.yaml drops every GPU reservation
Dockerfiles
  - the "build" stage text is identical in all of them (shared layers, no drift)
  - the final stage runs as a named non-root user, has a HEALTHCHECK and an
    ENTRYPOINT; runtime images have the runtime-base stage and the IPC health
    check; the GPU package is pinned by version and sha256
  - every COPY from the build context names a file that exists
  - the fixed uids/gids agree with compose.yaml
  - vasd and the core get the same arguments from their unit's ExecStart, their
    image's CMD and compose.yaml
systemd
  - the template unit has the directives issue 6 lists and nothing that turns
    on the device allow-list (it would hide the GPU); the core and runtimes
    have no network; users and groups exist in the sysusers snippet
"""
import argparse
import copy
import os
import re
import sys

import yaml

EXPORT_GID = 10100
SOCKET_GID = 10200
UIDS = {"vasd": 10000, "ruth-model": 10001, "ruth-core": 10002}
MODEL_SERVICES = ["blazeface-front", "blazeface-back", "ppocr-det"]
READERS = ["ruth-ai-core"] + MODEL_SERVICES


# ------------------------------------------------------------------ YAML loading
class _Tagged:
    """A value carrying a compose merge tag (!reset / !override)."""

    def __init__(self, tag, value):
        self.tag = tag
        self.value = value


class ComposeLoader(yaml.SafeLoader):
    pass


def _tag_ctor(loader, node):
    if isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    return _Tagged(node.tag, value)


ComposeLoader.add_constructor("!reset", _tag_ctor)
ComposeLoader.add_constructor("!override", _tag_ctor)


def load_yaml(path):
    with open(path) as f:
        return yaml.load(f, Loader=ComposeLoader)


def merge_override(base, over):
    """Compose's merge of an override file: mappings merge, sequences of
    volumes and other lists append, !reset removes, !override replaces."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, _Tagged):
            if v.tag == "!reset":
                out.pop(k, None)
            else:
                out[k] = copy.deepcopy(v.value)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_override(out[k], v)
        elif isinstance(v, list) and isinstance(out.get(k), list):
            out[k] = out[k] + [x for x in v if x not in out[k]]
        else:
            out[k] = copy.deepcopy(v)
    return out


# ------------------------------------------------------------------ helpers
def parse_size(s):
    m = re.fullmatch(r"(\d+)([kmg]?)", str(s).strip().lower())
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2)]


def volume_mounts(svc):
    """(source, target, read_only) for each short-syntax or long-syntax volume."""
    out = []
    for v in svc.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            src, tgt = parts[0], parts[1] if len(parts) > 1 else parts[0]
            opts = parts[2].split(",") if len(parts) > 2 else []
            out.append((src, tgt, "ro" in opts))
        elif isinstance(v, dict):
            out.append((v.get("source"), v.get("target"), bool(v.get("read_only"))))
    return out


def user_is_root(user):
    if user is None:
        return True
    u = str(user).split(":")[0]
    return u in ("", "0", "root")


def gpu_reserved(svc):
    devs = (((svc.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices") or []
    return any("gpu" in (d.get("capabilities") or []) for d in devs if isinstance(d, dict))


def load_shm_size_module(root):
    from importlib.machinery import SourceFileLoader
    import importlib.util

    path = os.path.join(root, "deploy", "shm-size")
    loader = SourceFileLoader("shm_size", path)
    spec = importlib.util.spec_from_loader("shm_size", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ compose rules
def check_compose(doc, root, errs, cpu_override=None):
    deploy_dir = os.path.join(root, "deploy")
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        errs.append("compose: no services")
        return
    services = doc["services"]
    for name in ["vasd"] + READERS:
        if name not in services:
            errs.append("compose: service %s missing" % name)
    for name, svc in services.items():
        if not isinstance(svc, dict):
            errs.append("compose: service %s is not a mapping" % name)
            continue
        where = "compose: service %s" % name
        if svc.get("read_only") is not True:
            errs.append("%s: read_only must be true" % where)
        if "ALL" not in (svc.get("cap_drop") or []):
            errs.append("%s: cap_drop must contain ALL" % where)
        if not any(str(o).replace(" ", "") in ("no-new-privileges:true", "no-new-privileges")
                   for o in svc.get("security_opt") or []):
            errs.append("%s: security_opt must contain no-new-privileges:true" % where)
        if svc.get("restart") not in ("always", "unless-stopped", "on-failure") and not str(
                svc.get("restart", "")).startswith("on-failure:"):
            errs.append("%s: needs a restart policy (unless-stopped, always, on-failure)" % where)
        if user_is_root(svc.get("user")):
            errs.append("%s: user must be set and not root" % where)
        hc = svc.get("healthcheck") or {}
        if not hc.get("test") or hc.get("disable"):
            errs.append("%s: needs a healthcheck" % where)
        if svc.get("privileged"):
            errs.append("%s: must not be privileged" % where)
        ipc = str(svc.get("ipc", ""))
        if ipc in ("host", "shareable") or ipc.startswith("service:") or ipc.startswith("container:"):
            errs.append("%s: ipc %s: frames are shared through the vas-shm volume, keep the IPC namespace private"
                        % (where, ipc))
        build = svc.get("build") or {}
        dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
        if not dockerfile or not os.path.isfile(os.path.join(deploy_dir, build.get("context", "."), dockerfile)):
            errs.append("%s: build.dockerfile %r does not exist" % (where, dockerfile))
        for src, _tgt, _ro in volume_mounts(svc):
            if src and src.startswith(("./", "../")) and not os.path.exists(os.path.join(deploy_dir, src)):
                errs.append("%s: bind mount source %s does not exist" % (where, src))
        if gpu_reserved(svc) and "runtime-gpu" not in str(dockerfile):
            errs.append("%s: reserves a GPU but is not built from Dockerfile.runtime-gpu" % where)

    for name in READERS:
        svc = services.get(name)
        if not isinstance(svc, dict):
            continue
        where = "compose: service %s" % name
        if svc.get("network_mode") != "none":
            errs.append("%s: network_mode must be none (readers need only /dev/shm and the sockets)" % where)
        if svc.get("networks"):
            errs.append("%s: must not join a network" % where)
        if svc.get("ports"):
            errs.append("%s: must not publish ports" % where)
        mounts = volume_mounts(svc)
        shm = [m for m in mounts if m[1] == "/dev/shm"]
        if not shm or shm[0][0] != "vas-shm":
            errs.append("%s: /dev/shm must be the vas-shm volume" % where)
        elif not shm[0][2]:
            errs.append("%s: /dev/shm must be mounted read-only (:ro)" % where)
        sock = [m for m in mounts if m[1] == "/run/ruth-ai"]
        if not sock or sock[0][0] != "ruth-sockets" or sock[0][2]:
            errs.append("%s: the socket volume ruth-sockets must be mounted read-write at /run/ruth-ai" % where)
        if str(EXPORT_GID) not in [str(g) for g in svc.get("group_add") or []]:
            errs.append("%s: group_add must contain the export group %d" % (where, EXPORT_GID))
        if str(svc.get("user", "")).split(":")[-1] != str(SOCKET_GID):
            errs.append("%s: primary group must be ruth-ai %d (the sockets admit it)" % (where, SOCKET_GID))

    vasd = services.get("vasd")
    if isinstance(vasd, dict):
        shm = [m for m in volume_mounts(vasd) if m[1] == "/dev/shm"]
        if not shm or shm[0][0] != "vas-shm" or shm[0][2]:
            errs.append("compose: service vasd: /dev/shm must be the vas-shm volume, read-write")
        if vasd.get("network_mode") == "none":
            errs.append("compose: service vasd: needs a network (RTSP in, RTP out)")
        if str(EXPORT_GID) not in [str(g) for g in vasd.get("group_add") or []]:
            errs.append("compose: service vasd: group_add must contain the export group %d" % EXPORT_GID)
        if str((vasd.get("environment") or {}).get("AI_FRAME_EXPORT_ENABLED", "")).lower() not in ("true", "1"):
            errs.append("compose: service vasd: AI_FRAME_EXPORT_ENABLED must be true in the AI stack")

    for name in MODEL_SERVICES:
        svc = services.get(name)
        if not isinstance(svc, dict):
            continue
        build = svc.get("build") if isinstance(svc.get("build"), dict) else {}
        mdir = (build.get("args") or {}).get("MODEL_DIR")
        if not mdir or not os.path.isdir(os.path.join(root, mdir)):
            errs.append("compose: service %s: build arg MODEL_DIR %r is not a folder of the repository" % (name, mdir))
        elif not os.path.isfile(os.path.join(root, mdir, "model.yaml")):
            errs.append("compose: service %s: %s has no model.yaml" % (name, mdir))
    if not any(gpu_reserved(s) for s in services.values() if isinstance(s, dict)):
        errs.append("compose: no service reserves a GPU (deploy.resources.reservations.devices)")

    vols = doc.get("volumes") or {}
    shmv = vols.get("vas-shm") or {}
    opts = shmv.get("driver_opts") or {}
    if opts.get("type") != "tmpfs":
        errs.append("compose: volume vas-shm must be a tmpfs (driver_opts.type: tmpfs)")
    else:
        size = None
        for o in str(opts.get("o", "")).split(","):
            if o.startswith("size="):
                size = parse_size(o[5:])
        cfg_path = os.path.join(deploy_dir, "config", "vasd.yaml")
        try:
            shm_mod = load_shm_size_module(root)
            with open(cfg_path) as f:
                vcfg = yaml.safe_load(f)
            slots = int((vcfg.get("export") or {}).get("slots", 4))
            need = 2 * sum(shm_mod.export_bytes(int(c.get("max_width", 1920)), int(c.get("max_height", 1080)), slots)
                           for c in vcfg.get("cameras") or [])
        except (OSError, yaml.YAMLError, ValueError, AttributeError) as e:
            errs.append("compose: cannot size vas-shm from %s: %s" % (cfg_path, e))
            need = None
        if size is None:
            errs.append("compose: volume vas-shm needs a size= option")
        elif need is not None and size < need:
            errs.append("compose: volume vas-shm size %d B is below twice the exports of config/vasd.yaml (%d B)"
                        % (size, need))
        if "gid=%d" % EXPORT_GID not in str(opts.get("o", "")):
            errs.append("compose: volume vas-shm must belong to the export group (gid=%d)" % EXPORT_GID)
    if "ruth-sockets" not in vols:
        errs.append("compose: volume ruth-sockets missing")

    if cpu_override is not None:
        merged = merge_override(doc, cpu_override)
        for name, svc in (merged.get("services") or {}).items():
            if isinstance(svc, dict) and gpu_reserved(svc):
                errs.append("compose.cpu.yaml: service %s still reserves a GPU" % name)
            for src, tgt, _ro in volume_mounts(svc) if isinstance(svc, dict) else []:
                if tgt == "/opt/cuda/lib64":
                    errs.append("compose.cpu.yaml: service %s still mounts host CUDA libraries" % name)


# ------------------------------------------------------------------ Dockerfile rules
BUILD_BEGIN = "# ---------------------------------------------------------------- build\n"
BUILD_END = "# ---------------------------------------------------------------- end of build\n"


def stages(text):
    """[(name, [instruction lines])] with continuation lines joined."""
    out = []
    joined = re.sub(r"\\\n", " ", text)
    for line in joined.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"FROM\s+\S+(?:\s+AS\s+(\S+))?", s, re.I)
        if m:
            out.append((m.group(1) or "", [s]))
        elif out:
            out[-1][1].append(s)
    return out


def check_dockerfiles(root, errs, texts=None):
    ddir = os.path.join(root, "deploy", "docker")
    names = ["Dockerfile.vasd", "Dockerfile.core", "Dockerfile.runtime", "Dockerfile.runtime-gpu"]
    if texts is None:
        texts = {}
        for n in names:
            try:
                with open(os.path.join(ddir, n)) as f:
                    texts[n] = f.read()
            except OSError as e:
                errs.append("%s: %s" % (n, e))
    builds = {}
    for n, t in texts.items():
        if BUILD_BEGIN in t and BUILD_END in t:
            builds[n] = t[t.index(BUILD_BEGIN):t.index(BUILD_END)]
        else:
            errs.append("%s: the shared build stage markers are missing" % n)
    if len(set(builds.values())) > 1:
        errs.append("Dockerfiles: the build stage differs between %s (keep them identical)" % ", ".join(sorted(builds)))
    expect_user = {"Dockerfile.vasd": "vasd", "Dockerfile.core": "ruth-core",
                   "Dockerfile.runtime": "ruth-model", "Dockerfile.runtime-gpu": "ruth-model"}
    for n, t in texts.items():
        st = stages(t)
        if not st:
            errs.append("%s: no stages" % n)
            continue
        # The user/health/entrypoint are set in the stage that produces the
        # image (the runtimes' last stage inherits them from runtime-base).
        final_chain = [st[-1]]
        if n.startswith("Dockerfile.runtime"):
            base = [s for s in st if s[0] == "runtime-base"]
            if not base:
                errs.append("%s: no runtime-base stage (templates/model builds FROM it)" % n)
            else:
                final_chain = base + [st[-1]]
            if not re.search(r"^ARG MODEL_DIR=", t, re.M):
                errs.append("%s: no MODEL_DIR build argument" % n)
        lines = [l for _name, ls in final_chain for l in ls]
        users = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
        if not users:
            errs.append("%s: final stage has no USER" % n)
        elif users[-1].split(":")[0] in ("root", "0"):
            errs.append("%s: final stage runs as root" % n)
        elif users[-1] != expect_user[n]:
            errs.append("%s: USER %s, expected %s (a bare name, so docker applies its supplementary groups)"
                        % (n, users[-1], expect_user[n]))
        hcs = [l for l in lines if l.upper().startswith("HEALTHCHECK ")]
        if not hcs or "NONE" in hcs[-1].upper().split()[1:2]:
            errs.append("%s: final stage has no HEALTHCHECK" % n)
        elif n.startswith("Dockerfile.runtime") and '"runtime"' not in hcs[-1]:
            errs.append("%s: HEALTHCHECK must ask the runtime over IPC (healthcheck.sh runtime)" % n)
        if not any(l.upper().startswith("ENTRYPOINT ") for l in lines):
            errs.append("%s: final stage has no ENTRYPOINT" % n)
        for l in re.sub(r"\\\n", " ", t).splitlines():
            s = l.strip()
            if s.upper().startswith("COPY ") and "--from=" not in s:
                parts = [p for p in s.split()[1:] if not p.startswith("--")]
                for src in parts[:-1]:
                    if src != "." and not os.path.exists(os.path.join(root, src)):
                        errs.append("%s: COPY source %s does not exist" % (n, src))
        flat = re.sub(r"\\\n", " ", t)
        for uname, uid in UIDS.items():
            m = re.search(r"--uid (\d+)[^\n]*?\s%s(?:\s|$)" % re.escape(uname), flat, re.M)
            if m and int(m.group(1)) != uid:
                errs.append("%s: user %s has uid %s, compose.yaml uses %d" % (n, uname, m.group(1), uid))
        for gname, gid in (("vas-export", EXPORT_GID), ("ruth-ai", SOCKET_GID)):
            m = re.search(r"--gid (\d+) %s\b" % re.escape(gname), flat)
            if m and int(m.group(1)) != gid:
                errs.append("%s: group %s has gid %s, compose.yaml uses %d" % (n, gname, m.group(1), gid))
    gpu = texts.get("Dockerfile.runtime-gpu", "")
    if not re.search(r"ARG ORT_GPU_PACKAGE=\S+@\d+\.\d+\.\d+", gpu):
        errs.append("Dockerfile.runtime-gpu: the GPU provider package must be pinned to a version")
    if not re.search(r"ARG ORT_GPU_SHA256=[0-9a-f]{64}\b", gpu) or "sha256sum -c" not in gpu:
        errs.append("Dockerfile.runtime-gpu: the GPU provider package must be checked against a sha256")


# ------------------------------------------------------------------ systemd rules
def unit_directives(text):
    d = {}
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith(("#", ";", "[")) or "=" not in s:
            continue
        k, v = s.split("=", 1)
        d.setdefault(k.strip(), []).append(v.strip())
    return d


def check_systemd(root, errs, texts=None):
    sdir = os.path.join(root, "deploy", "systemd")
    names = ["ruth-model-runtime@.service", "ruth-ai-core.service", "vasd.service", "ruth-ai.sysusers.conf"]
    if texts is None:
        texts = {}
        for n in names:
            try:
                with open(os.path.join(sdir, n)) as f:
                    texts[n] = f.read()
            except OSError as e:
                errs.append("%s: %s" % (n, e))
    rt = unit_directives(texts.get("ruth-model-runtime@.service", ""))
    required = {
        "Type": "notify", "NoNewPrivileges": "yes", "PrivateNetwork": "yes", "ProtectSystem": "strict",
        "ProtectHome": "yes", "PrivateTmp": "yes", "Restart": "on-failure", "RestrictAddressFamilies": "AF_UNIX",
        "ReadWritePaths": "/run/ruth-ai",
    }
    for k, v in required.items():
        if v not in rt.get(k, []):
            errs.append("ruth-model-runtime@.service: needs %s=%s" % (k, v))
    for k in ("User", "Group", "SupplementaryGroups", "EnvironmentFile"):
        if not rt.get(k):
            errs.append("ruth-model-runtime@.service: needs %s=" % k)
    ro = " ".join(rt.get("ReadOnlyPaths", [])).split()
    for p in ("/opt/ruth-ai/models/%i", "/dev/shm"):
        if p not in ro:
            errs.append("ruth-model-runtime@.service: ReadOnlyPaths must include %s" % p)
    for k in ("PrivateDevices", "ProtectClock", "DeviceAllow", "DevicePolicy"):
        if rt.get(k) and rt[k][-1] not in ("no", "false", "auto"):
            errs.append("ruth-model-runtime@.service: %s=%s turns on the device allow-list and hides the GPU"
                        % (k, rt[k][-1]))
    core = unit_directives(texts.get("ruth-ai-core.service", ""))
    if "yes" not in core.get("PrivateNetwork", []):
        errs.append("ruth-ai-core.service: needs PrivateNetwork=yes")
    if "/dev/shm" not in " ".join(core.get("ReadOnlyPaths", [])).split():
        errs.append("ruth-ai-core.service: ReadOnlyPaths must include /dev/shm")
    vasd = unit_directives(texts.get("vasd.service", ""))
    if "yes" in vasd.get("PrivateNetwork", []):
        errs.append("vasd.service: must not have PrivateNetwork=yes (RTSP in, RTP out)")
    sysusers = texts.get("ruth-ai.sysusers.conf", "")
    users = set(re.findall(r"^u\s+(\S+)", sysusers, re.M))
    groups = set(re.findall(r"^g\s+(\S+)", sysusers, re.M)) | users
    for unit, d in (("ruth-model-runtime@.service", rt), ("ruth-ai-core.service", core), ("vasd.service", vasd)):
        for u in d.get("User", []):
            if u not in users:
                errs.append("%s: User=%s is not created by ruth-ai.sysusers.conf" % (unit, u))
        for g in " ".join(d.get("Group", []) + d.get("SupplementaryGroups", [])).split():
            if g not in groups:
                errs.append("%s: group %s is not created by ruth-ai.sysusers.conf" % (unit, g))
        if "Type" in d and d["Type"][-1] == "notify" and "main" not in d.get("NotifyAccess", ["main"]):
            errs.append("%s: NotifyAccess should be main" % unit)


# ------------------------------------------------------------------ cross-file rules
def exec_args(unit_text):
    """ExecStart arguments of a unit without the binary and $VAR words."""
    lines = [l.split("=", 1)[1] for l in unit_text.splitlines() if l.startswith("ExecStart=")]
    if not lines:
        return None
    return [w for w in lines[-1].split()[1:] if not w.startswith("$")]


def dockerfile_cmd(text):
    m = re.findall(r"^CMD\s+(\[.*\])\s*$", text, re.M)
    if not m:
        return None
    import json
    return json.loads(m[-1])


def check_same_arguments(doc, root, errs, units=None, dockerfiles=None):
    """vasd and the core get the same arguments from systemd, compose and the
    image, so the three ways to run them cannot drift apart."""
    pairs = (("vasd", "vasd.service", "Dockerfile.vasd"),
             ("ruth-ai-core", "ruth-ai-core.service", "Dockerfile.core"))
    for svc, unit, dfile in pairs:
        try:
            ut = units[unit] if units else open(os.path.join(root, "deploy", "systemd", unit)).read()
            dt = dockerfiles[dfile] if dockerfiles else open(os.path.join(root, "deploy", "docker", dfile)).read()
        except OSError as e:
            errs.append("arguments: %s" % e)
            continue
        ua, dc = exec_args(ut), dockerfile_cmd(dt)
        cc = ((doc or {}).get("services") or {}).get(svc, {}).get("command")
        if ua is None or dc is None or cc is None:
            errs.append("arguments: %s: ExecStart, CMD or compose command missing" % svc)
        elif not (ua == dc == cc):
            errs.append("arguments: %s differs: unit %s, image CMD %s, compose %s" % (svc, ua, dc, cc))


# ------------------------------------------------------------------ driver
def run_checks(root, compose_path=None):
    errs = []
    deploy_dir = os.path.join(root, "deploy")
    compose_path = compose_path or os.path.join(deploy_dir, "compose.yaml")
    try:
        doc = load_yaml(compose_path)
    except (OSError, yaml.YAMLError) as e:
        errs.append("compose: %s: %s" % (compose_path, e))
        doc = None
    cpu = None
    cpu_path = os.path.join(deploy_dir, "compose.cpu.yaml")
    try:
        cpu = load_yaml(cpu_path)
    except (OSError, yaml.YAMLError) as e:
        errs.append("compose.cpu.yaml: %s" % e)
    if doc is not None:
        check_compose(doc, root, errs, cpu)
    check_dockerfiles(root, errs)
    check_systemd(root, errs)
    check_same_arguments(doc, root, errs)
    return errs


def self_test(root):
    """Break one rule at a time and require the checker to report it; a
    checker that passes everything would otherwise look like a green test."""
    base = load_yaml(os.path.join(root, "deploy", "compose.yaml"))
    cpu = load_yaml(os.path.join(root, "deploy", "compose.cpu.yaml"))
    errs = []
    check_compose(base, root, errs, cpu)
    if errs:
        print("self-test: the real compose.yaml does not pass:\n  " + "\n  ".join(errs))
        return 1

    def svc(d, n):
        return d["services"][n]

    compose_cases = [
        ("runtime with a network", lambda d: svc(d, "ppocr-det").pop("network_mode"), "network_mode must be none"),
        ("core with a network", lambda d: svc(d, "ruth-ai-core").update(network_mode="bridge"), "network_mode must be none"),
        ("writable shm in a reader", lambda d: svc(d, "blazeface-front").update(
            volumes=["vas-shm:/dev/shm", "ruth-sockets:/run/ruth-ai"]), "read-only"),
        ("root user", lambda d: svc(d, "blazeface-back").update(user="0:0"), "not root"),
        ("no user", lambda d: svc(d, "vasd").pop("user"), "not root"),
        ("writable root fs", lambda d: svc(d, "ruth-ai-core").update(read_only=False), "read_only"),
        ("capabilities kept", lambda d: svc(d, "vasd").update(cap_drop=["NET_RAW"]), "cap_drop"),
        ("no no-new-privileges", lambda d: svc(d, "ppocr-det").update(security_opt=[]), "no-new-privileges"),
        ("no restart", lambda d: svc(d, "blazeface-front").pop("restart"), "restart policy"),
        ("no healthcheck", lambda d: svc(d, "blazeface-front").pop("healthcheck"), "healthcheck"),
        ("shared ipc", lambda d: svc(d, "ppocr-det").update(ipc="service:vasd"), "keep the IPC namespace private"),
        ("no socket volume", lambda d: svc(d, "ppocr-det").update(volumes=["vas-shm:/dev/shm:ro"]), "socket volume"),
        ("no export group", lambda d: svc(d, "ruth-ai-core").update(group_add=[]), "export group"),
        ("shm too small", lambda d: d["volumes"]["vas-shm"]["driver_opts"].update(o="size=8m,mode=1770,gid=10100"),
         "below twice"),
        ("shm not tmpfs", lambda d: d["volumes"].update({"vas-shm": None}), "tmpfs"),
        ("missing model service", lambda d: d["services"].pop("blazeface-back"), "blazeface-back missing"),
        ("bad model dir", lambda d: svc(d, "blazeface-back")["build"]["args"].update(MODEL_DIR="models/nope"),
         "MODEL_DIR"),
        ("no gpu anywhere", lambda d: svc(d, "ppocr-det").pop("deploy"), "reserves a GPU"),
        ("gpu on a cpu image", lambda d: svc(d, "blazeface-front").update(deploy=copy.deepcopy(
            svc(d, "ppocr-det")["deploy"])), "not built from Dockerfile.runtime-gpu"),
        ("vasd without shm", lambda d: svc(d, "vasd").update(volumes=["./config/vasd.yaml:/etc/ruth-ai/vasd.yaml:ro"]),
         "vas-shm volume, read-write"),
        ("vasd export off", lambda d: svc(d, "vasd")["environment"].update(AI_FRAME_EXPORT_ENABLED="false"),
         "AI_FRAME_EXPORT_ENABLED"),
    ]
    failed = 0
    for label, mutate, expect in compose_cases:
        d = copy.deepcopy(base)
        mutate(d)
        e = []
        check_compose(d, root, e, None)
        if not any(expect in x for x in e):
            print("self-test FAIL: %s: no error containing %r (got %s)" % (label, expect, e))
            failed += 1
        else:
            print("self-test ok: %s -> %s" % (label, next(x for x in e if expect in x)))
    e = []
    bad_cpu = {"services": {"ppocr-det": {"image": "x"}}}
    check_compose(base, root, e, bad_cpu)
    if not any("still reserves a GPU" in x for x in e):
        print("self-test FAIL: cpu override that keeps the GPU not caught")
        failed += 1
    else:
        print("self-test ok: cpu override keeping the GPU")

    ddir = os.path.join(root, "deploy", "docker")
    dtexts = {}
    for n in ["Dockerfile.vasd", "Dockerfile.core", "Dockerfile.runtime", "Dockerfile.runtime-gpu"]:
        with open(os.path.join(ddir, n)) as f:
            dtexts[n] = f.read()
    e = []
    check_dockerfiles(root, e, dtexts)
    if e:
        print("self-test: the real Dockerfiles do not pass:\n  " + "\n  ".join(e))
        return 1
    docker_cases = [
        ("root user", "Dockerfile.core", lambda t: t.replace("USER ruth-core", "USER root"), "runs as root"),
        ("no user", "Dockerfile.vasd", lambda t: t.replace("USER vasd\n", ""), "no USER"),
        ("no healthcheck", "Dockerfile.runtime", lambda t: re.sub(r"HEALTHCHECK [^\n]*\\\n[^\n]*\n", "", t),
         "no HEALTHCHECK"),
        ("drifted build stage", "Dockerfile.vasd", lambda t: t.replace("libcmocka-dev", "libcmocka-dev less"),
         "build stage differs"),
        ("unpinned gpu package", "Dockerfile.runtime-gpu",
         lambda t: re.sub(r"ARG ORT_GPU_SHA256=\S+", "ARG ORT_GPU_SHA256=", t), "sha256"),
        ("missing COPY source", "Dockerfile.core",
         lambda t: t.replace("deploy/docker/healthcheck.sh", "deploy/docker/nope.sh"), "does not exist"),
        ("uid drift", "Dockerfile.runtime", lambda t: t.replace("--uid 10001", "--uid 10009"), "uid"),
    ]
    for label, n, mutate, expect in docker_cases:
        t = dict(dtexts)
        t[n] = mutate(t[n])
        if t[n] == dtexts[n]:
            print("self-test FAIL: %s: the mutation did not apply to %s" % (label, n))
            failed += 1
            continue
        e = []
        check_dockerfiles(root, e, t)
        if not any(expect in x for x in e):
            print("self-test FAIL: %s: no error containing %r (got %s)" % (label, expect, e))
            failed += 1
        else:
            print("self-test ok: %s -> %s" % (label, next(x for x in e if expect in x)))

    sdir = os.path.join(root, "deploy", "systemd")
    stexts = {}
    for n in ["ruth-model-runtime@.service", "ruth-ai-core.service", "vasd.service", "ruth-ai.sysusers.conf"]:
        with open(os.path.join(sdir, n)) as f:
            stexts[n] = f.read()
    e = []
    check_systemd(root, e, stexts)
    if e:
        print("self-test: the real units do not pass:\n  " + "\n  ".join(e))
        return 1
    unit_cases = [
        ("runtime with network", "ruth-model-runtime@.service",
         lambda t: t.replace("PrivateNetwork=yes", "PrivateNetwork=no"), "PrivateNetwork"),
        ("runtime writable model", "ruth-model-runtime@.service",
         lambda t: t.replace("ReadOnlyPaths=/opt/ruth-ai/models/%i\n", ""), "ReadOnlyPaths"),
        ("runtime not notify", "ruth-model-runtime@.service", lambda t: t.replace("Type=notify", "Type=simple"),
         "Type=notify"),
        ("runtime hides the GPU", "ruth-model-runtime@.service",
         lambda t: t.replace("ProtectHostname=yes", "ProtectHostname=yes\nProtectClock=yes"), "hides the GPU"),
        ("unknown user", "ruth-ai-core.service", lambda t: t.replace("User=ruth-core", "User=ruthcore"),
         "not created"),
        ("vasd without network", "vasd.service", lambda t: t.replace("[Service]\n", "[Service]\nPrivateNetwork=yes\n"),
         "must not have PrivateNetwork"),
    ]
    for label, n, mutate, expect in unit_cases:
        t = dict(stexts)
        t[n] = mutate(t[n])
        if t[n] == stexts[n]:
            print("self-test FAIL: %s: the mutation did not apply to %s" % (label, n))
            failed += 1
            continue
        e = []
        check_systemd(root, e, t)
        if not any(expect in x for x in e):
            print("self-test FAIL: %s: no error containing %r (got %s)" % (label, expect, e))
            failed += 1
        else:
            print("self-test ok: %s -> %s" % (label, next(x for x in e if expect in x)))
    e = []
    check_same_arguments(base, root, e)
    if e:
        print("self-test: the real files disagree on arguments:\n  " + "\n  ".join(e))
        return 1
    d = copy.deepcopy(base)
    d["services"]["vasd"]["command"] = ["--config", "/etc/ruth-ai/other.yaml"]
    e = []
    check_same_arguments(d, root, e)
    if not any("vasd differs" in x for x in e):
        print("self-test FAIL: a compose command that differs from the unit was not caught")
        failed += 1
    else:
        print("self-test ok: argument drift -> %s" % e[0])
    total = len(compose_cases) + 1 + len(docker_cases) + len(unit_cases) + 1
    print("self-test: %d of %d broken files caught" % (total - failed, total))
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description="structural checks of deploy/")
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--compose", help="compose file to check instead of deploy/compose.yaml")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test(args.root)
    errs = run_checks(args.root, args.compose)
    for e in errs:
        print("check-deploy: %s" % e)
    if errs:
        print("check-deploy: %d problem(s)" % len(errs))
        return 1
    print("check-deploy: compose.yaml, Dockerfiles and systemd units follow the deployment rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
