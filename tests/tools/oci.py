"""A tiny OCI image written from scratch (no network): one layer, a config, a manifest.

``write_layout(dir)`` writes an OCI image layout (``oci-layout``, ``index.json``,
``blobs/sha256/...``) that ``skopeo copy oci:DIR:TAG ...`` reads; ``write_archive(path)``
tars that layout so ``docker load`` (through podman's Docker-compatible service)
loads it under ``name``.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"


@dataclass(frozen=True)
class Image:
    """What was written: the layout directory and the manifest's digest."""

    layout: Path
    manifest_digest: str
    tag: str


def _tar_bytes(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar with fixed metadata, so the layer digest is reproducible."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _blob(blobs: Path, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (blobs / digest.split(":", 1)[1]).write_bytes(data)
    return digest


def write_layout(directory: Path, *, name: str = "localhost/app:latest",
                 content: str = "hello from assumer\n") -> Image:
    """Write an OCI image layout holding one image tagged with ``name``'s tag.

    ``content`` goes into the single file of the single layer; change it to get an
    image with a different digest.
    """
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    layer = _tar_bytes({"hello.txt": content.encode()})
    layer_digest = _blob(blobs, layer)
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/hello.txt"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "history": [{"created_by": "tests/tools/oci.py"}],
    }, sort_keys=True).encode()
    config_digest = _blob(blobs, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": layer_digest, "size": len(layer)}],
    }, sort_keys=True).encode()
    manifest_digest = _blob(blobs, manifest)
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else "latest"
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": MANIFEST_TYPE,
            "digest": manifest_digest,
            "size": len(manifest),
            "annotations": {
                # containerd's (and podman's) name for the image, and OCI's tag name.
                "io.containerd.image.name": name,
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    }
    (directory / "index.json").write_text(json.dumps(index))
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return Image(layout=directory, manifest_digest=manifest_digest, tag=tag)


def write_archive(path: Path, layout: Path) -> Path:
    """Tar the layout at ``layout`` into ``path`` (what ``docker load -i`` takes)."""
    with tarfile.open(path, "w") as tar:
        for item in sorted(layout.rglob("*")):
            tar.add(item, arcname=str(item.relative_to(layout)), recursive=False)
    return path
