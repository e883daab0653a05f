"""Where a dataset's files come from: a folder or zip you name, an environment variable, the cache,
or a download of the official archive into the cache (atomic, checked, extracted safely).

A dataset describes its archive once (:class:`Archive`); the functions here know nothing else
about it. Datasets whose licence forbids redistribution are never shipped with the package.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

ENV_CACHE = "MFWIDGETS_CACHE"

Opener = Callable[[str], IO[bytes]]


class DataError(ValueError):
    """Data is missing, incomplete or malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Archive:
    """An official dataset archive: its folder name, URL, required files and environment
    variable (a folder or the zip), plus the page that explains how to get it by hand."""

    folder: str  #: the folder the zip unpacks to, e.g. "hetrec2011-lastfm-2k"
    url: str
    required: tuple[str, ...]
    env: str
    homepage: str = ""
    md5: str = ""  #: the archive's published MD5 (checked after a download), when there is one

    @property
    def filename(self) -> str:
        """The archive's file name, from its URL (``ml-100k.zip``, ``...-360K.tar.gz``)."""
        return self.url.rsplit("/", 1)[-1]

    def manual_help(self, cache: Path) -> str:
        page = f" (or {self.homepage})" if self.homepage else ""
        return (
            f"To provide the data by hand: download {self.filename} from {self.url}{page} on a "
            f"machine with internet, then either set {self.env}=/path/to/{self.filename} (or "
            f"to the unpacked folder), or pass that path as `source`, or unpack it into "
            f"{cache / self.folder}."
        )


def default_cache_dir() -> Path:
    """``$MFWIDGETS_CACHE``, else the platform's user cache folder plus ``mfwidgets``."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mfwidgets"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "mfwidgets" / "Cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mfwidgets"


def _dataset_folder(folder: Path, archive: Archive) -> Path:
    """``folder`` itself or its ``archive.folder`` subfolder, whichever holds the files."""
    if not all((folder / f).is_file() for f in archive.required):
        nested = folder / archive.folder
        if nested.is_dir():
            folder = nested
    missing = [f for f in archive.required if not (folder / f).is_file()]
    if missing:
        raise DataError(f"{folder}: missing required file(s) {', '.join(missing)}")
    return folder


def _folder_opener(folder: Path, archive: Archive) -> Opener:
    folder = _dataset_folder(folder, archive)
    return lambda name: open(folder / name, "rb")


def _zip_opener(path: Path, archive: Archive) -> Opener:
    """Read members straight from the zip (by base name; nothing is extracted)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = {Path(i.filename).name: i.filename for i in zf.infolist() if not i.is_dir()}
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError(f"{path}: not a readable zip file ({exc})") from exc
    missing = [f for f in archive.required if f not in members]
    if missing:
        raise DataError(f"{path}: zip lacks required file(s) {', '.join(missing)}")

    def open_member(name: str) -> IO[bytes]:
        with zipfile.ZipFile(path) as zf:
            try:
                return io.BytesIO(zf.read(members[name]))
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise DataError(f"{path}: {name} is damaged in the zip ({exc})") from exc

    return open_member


def _tar_members(path: Path, archive: Archive) -> dict[str, str]:
    try:
        with tarfile.open(path) as tf:
            members = {Path(m.name).name: m.name for m in tf.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable tar archive ({exc})") from exc
    missing = [f for f in archive.required if f not in members]
    if missing:
        raise DataError(f"{path}: archive lacks required file(s) {', '.join(missing)}")
    return members


class _TarMember(io.BufferedReader):
    """A member of a tar archive, read as a stream (nothing extracted); closes its archive."""

    def __init__(self, path: Path, member: str) -> None:
        self._tar = tarfile.open(path)  # noqa: SIM115 - closed with the member, in close()
        super().__init__(self._tar.extractfile(member))

    def close(self) -> None:
        super().close()
        self._tar.close()


def _tar_opener(path: Path, archive: Archive) -> Opener:
    """Stream members straight from a (compressed) tar: large files are never held whole."""
    members = _tar_members(path, archive)
    return lambda name: _TarMember(path, members[name])


def _is_tar(path: Path) -> bool:
    return path.name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"))


def opener_for(path: Path, archive: Archive) -> Opener:
    """A function that opens the archive's files by name, from a folder, a zip or a tar."""
    path = Path(path).expanduser()
    if path.is_dir():
        return _folder_opener(path, archive)
    if path.is_file():
        return _tar_opener(path, archive) if _is_tar(path) else _zip_opener(path, archive)
    raise DataError(f"{path}: no such folder or archive file")


def safe_extract(zip_path: Path, target: Path) -> None:
    """Extract a zip or tar into ``target``, refusing any member that would land outside it
    (and, in a zip, symbolic links; a tar goes through tarfile's "data" filter)."""
    target = Path(target).resolve()
    if _is_tar(zip_path):
        with tarfile.open(zip_path) as tf:
            try:
                tf.extractall(target, filter="data")
            except tarfile.FilterError as exc:
                raise DataError(f"{zip_path}: unsafe member refused ({exc})") from exc
        return
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            dest = (target / info.filename).resolve()
            if dest != target and target not in dest.parents:
                raise DataError(f"{zip_path}: member {info.filename!r} escapes the target folder")
            if info.external_attr >> 16 & 0o170000 == 0o120000:
                raise DataError(f"{zip_path}: member {info.filename!r} is a symbolic link")
        zf.extractall(target)


def _download(url: str, dest: Path, timeout: float) -> None:
    """Stream ``url`` to ``dest`` through a temporary file; a short read raises DataError."""
    tmp = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as out:
            expected = resp.headers.get("Content-Length")
            shutil.copyfileobj(resp, out, length=1 << 20)
            size = out.tell()
        if expected is not None and size != int(expected):
            raise DataError(f"download of {url} was interrupted ({size} of {expected} bytes)")
        os.replace(tmp, dest)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, DataError):
            raise
        raise DataError(f"could not download {url}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(
    archive: Archive,
    cache_dir: str | Path | None = None,
    *,
    url: str | None = None,
    timeout: float = 60,
) -> Path:
    """Return the cached dataset folder, downloading and extracting the archive first if needed.

    Atomic: the archive is downloaded to a ``.part`` file, checked, extracted into a temporary
    folder and only then renamed into place, so an interrupted run never leaves a folder that looks
    complete. A published MD5 is checked. Offline, the DataError says how to provide the data by
    hand. (Stdlib urllib and hashlib rather than pooch: this path is tested end to end against a
    local server, and pooch would log to the notebook's stderr on every download.)
    """
    url = url or archive.url
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    folder = cache / archive.folder
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s into %s", url, cache)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".download-") as tmp:
        zip_path = Path(tmp) / archive.filename
        try:
            _download(url, zip_path, timeout)
        except DataError as exc:
            raise DataError(f"{exc}. {archive.manual_help(cache)}") from exc
        if archive.md5 and (got := _md5(zip_path)) != archive.md5:
            raise DataError(
                f"{url}: the download's MD5 is {got}, not the published {archive.md5} (a changed "
                f"or damaged archive). {archive.manual_help(cache)}"
            )
        opener_for(zip_path, archive)  # validates: a readable archive with every required file
        staging = Path(tmp) / "extracted"
        safe_extract(zip_path, staging)
        try:
            os.replace(_dataset_folder(staging, archive), folder)
        except OSError:
            if not folder.is_dir():  # another process may have won the race; that is fine
                raise
    return folder


def resolve_source(
    archive: Archive,
    source: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    download_url: str | None = None,
) -> tuple[Opener, str]:
    """Where to read from: ``source``, else ``$archive.env``, else the cache, else download."""
    if source is not None:
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"source must be a path (str or Path) or None, got {type(source)}")
        return opener_for(Path(source), archive), str(source)
    if os.environ.get(archive.env):
        path = Path(os.environ[archive.env])
        try:
            return opener_for(path, archive), str(path)
        except DataError as exc:
            raise DataError(f"{archive.env}={path}: {exc}") from exc
    folder = fetch(archive, cache_dir, url=download_url)
    return _folder_opener(folder, archive), str(folder)
