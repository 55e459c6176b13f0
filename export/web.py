"""A static web page that runs an exported generator in the browser with onnxruntime-web.

`write_web_page(onnx_file, folder)` writes into `folder`:
- index.html and app.js (from export/web_page/): an 8 x 8 grid from a seed, a "new samples"
  button, a latent walk between two samples, and a class picker for conditional generators;
- model.onnx (a copy of the file) and model.json (its metadata_props, parsed, which the page reads);
- onnxruntime-web's WebAssembly build (ort.wasm.min.js, ort-wasm-simd-threaded.{mjs,wasm}),
  copied from the npm package `onnxruntime-web` that `npm ci --prefix web` installs from the
  repository's web/package-lock.json. Nothing is fetched from the network when the page runs.

Serve the folder with any static server (`python -m http.server -d DIR`) and open it: browsers
refuse to load WebAssembly and fetch files from file:// pages.
"""
import json
import os
import shutil
from pathlib import Path

from gan_models.export.onnx import read_metadata

PAGE_FILES = ("index.html", "app.js")
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_WEB_ENV = "GAN_MODELS_ORT_WEB"  # a folder holding RUNTIME_FILES, instead of the repository's web/node_modules
REPOSITORY_ORT_WEB = Path(__file__).resolve().parents[1] / "web" / "node_modules" / "onnxruntime-web" / "dist"


def find_onnxruntime_web() -> Path:
    """The folder holding onnxruntime-web's files: $GAN_MODELS_ORT_WEB, else web/node_modules in this checkout.

    Raises:
        FileNotFoundError: the files are not there; the message says how to install them.
    """
    folder = Path(os.environ[ORT_WEB_ENV]) if os.environ.get(ORT_WEB_ENV) else REPOSITORY_ORT_WEB
    missing = [name for name in RUNTIME_FILES if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"onnxruntime-web is not installed: {folder} lacks {', '.join(missing)}; run "
                                f"`npm ci --prefix web` in the gan-models repository, or set {ORT_WEB_ENV} to the "
                                "dist folder of the onnxruntime-web npm package")
    return folder


def page_metadata(onnx_file: str | os.PathLike) -> dict:
    """What the page needs to know about the model (model.json): metadata_props with numbers and lists parsed.

    Keys: model, dataset, nz (int), image_shape ([C, H, W]), noise, onnx_precision, exporter, and
    classes (list of names) for a conditional generator.
    """
    meta = read_metadata(onnx_file)
    page = {"model": meta.get("model", "generator"), "dataset": meta.get("dataset", "unknown"),
            "nz": int(meta["nz"]), "image_shape": [int(d) for d in meta["image_shape"].split(",")],
            "noise": meta.get("noise", "normal"), "onnx_precision": meta.get("precision", "fp32"),
            "exporter": meta.get("exporter", "unknown")}
    if "classes" in meta:
        page["classes"] = json.loads(meta["classes"])
    return page


def write_web_page(onnx_file: str | os.PathLike, folder: str | os.PathLike, *, runtime: Path | None = None) -> Path:
    """Write the static page for the generator in `onnx_file` into `folder` (created); returns index.html's path.

    Args:
        onnx_file: an ONNX file written by export_onnx (its metadata_props describe the model).
        folder: the site folder; files of the same names in it are replaced.
        runtime: folder of onnxruntime-web's files; default find_onnxruntime_web().

    Raises:
        FileNotFoundError: onnxruntime-web is not installed (see find_onnxruntime_web).
        KeyError: the file lacks the nz or image_shape metadata (it was not written by export_onnx).
    """
    runtime = runtime or find_onnxruntime_web()
    meta = page_metadata(onnx_file)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in PAGE_FILES:
        shutil.copyfile(Path(__file__).parent / "web_page" / name, folder / name)
    for name in RUNTIME_FILES:
        shutil.copyfile(runtime / name, folder / name)
    shutil.copyfile(onnx_file, folder / "model.onnx")
    (folder / "model.json").write_text(json.dumps(meta, indent=1) + "\n")
    return folder / "index.html"
