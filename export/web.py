"""A static web page that runs an exported generator in the browser with onnxruntime-web.

`write_web_page(onnx_file, folder)` writes into `folder`:
- index.html and app.js (from export/web_page/): a grid from a seed (8 x 8, or for a conditional
  generator one labelled row of 8 per class, or 8 x 8 of a picked class), a random-seed button, a
  truncation slider (gan_models.noise's rule), an animated latent walk between the two most
  different samples of the first row or two clicked ones, and a PNG download of the grid;
- model.onnx (a copy of the file) and model.json (its metadata_props, parsed, which the page reads);
- onnxruntime-web's WebAssembly build (ort.wasm.min.js, ort-wasm-simd-threaded.{mjs,wasm}),
  copied from the npm package `onnxruntime-web` that `npm ci --prefix web` installs from the
  repository's web/package-lock.json. Nothing is fetched from the network when the page runs;
- PAGE_MARKER, which marks the folder as a page this module wrote. A folder that is not empty is
  written into only when it holds the marker, so a user's own files are never replaced.

The files are written into a fresh folder beside `folder` first and then renamed into it, so a
full disk or an error part-way leaves `folder` as it was.

Serve the folder with any static server (`python -m http.server -d DIR`) and open it: browsers
refuse to load WebAssembly and fetch files from file:// pages.
"""
import json
import os
import shutil
import tempfile
from pathlib import Path

from gan_models.atomic import check_writable
from gan_models.export.onnx import INVALID_LABELS_KEY, NUM_CLASSES_KEY, PRECISION_KEY, read_metadata

PAGE_FILES = ("index.html", "app.js")
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_WEB_ENV = "GAN_MODELS_ORT_WEB"  # a folder holding RUNTIME_FILES, instead of the repository's web/node_modules
REPOSITORY_ORT_WEB = Path(__file__).resolve().parents[1] / "web" / "node_modules" / "onnxruntime-web" / "dist"
PAGE_MARKER = ".gan-models-web-page"  # written into every page folder; only such a folder may be written over


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

    Keys: model, dataset, nz (int), image_shape ([C, H, W]), noise, onnx_precision, exporter, and for a
    conditional generator classes (list of names) and invalid_labels (what a label out of range draws).
    """
    meta = read_metadata(onnx_file)
    page = {"model": meta.get("model", "generator"), "dataset": meta.get("dataset", "unknown"),
            "nz": int(meta["nz"]), "image_shape": [int(d) for d in meta["image_shape"].split(",")],
            "noise": meta.get("noise", "normal"), "onnx_precision": meta.get(PRECISION_KEY, "float32"),
            "exporter": meta.get("exporter", "unknown")}
    if int(meta[NUM_CLASSES_KEY]):
        page["classes"] = json.loads(meta["classes"])
        page["invalid_labels"] = meta.get(INVALID_LABELS_KEY, "unknown")
    return page


def check_web_folder(folder: str | os.PathLike, onnx_file: str | os.PathLike | None = None) -> Path:
    """Raise the error writing a page into `folder` would meet, before any work; returns the folder.

    `folder` may be missing, empty, or a page written before (it holds PAGE_MARKER). `onnx_file`,
    the ONNX file the page is made from, must lie outside it: the page keeps its own copy.

    Raises:
        FileExistsError: `folder` holds files and no PAGE_MARKER, so they may be a user's own.
        ValueError: `onnx_file` lies inside `folder`.
        OSError: `folder` is a file, or a page cannot be created there (as check_writable says).
    """
    folder = Path(folder)
    if onnx_file is not None and Path(onnx_file).resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"the ONNX file {onnx_file} lies inside the web folder {folder}; write it outside "
                         "(the page keeps its own copy, model.onnx)")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / PAGE_MARKER).is_file():
        raise FileExistsError(f"{folder} is not empty and is not a page gan-models wrote (no {PAGE_MARKER}); "
                              "give a new or empty folder, so that no file of yours is replaced")
    check_writable(folder / PAGE_MARKER)  # a file where the folder should be, or no permission, is named now
    return folder


def write_web_page(onnx_file: str | os.PathLike, folder: str | os.PathLike, *, runtime: Path | None = None) -> Path:
    """Write the static page for the generator in `onnx_file` into `folder` (created); returns index.html's path.

    Args:
        onnx_file: an ONNX file written by export_onnx (its metadata_props describe the model), outside `folder`.
        folder: the site folder: new, empty, or a page written here before, whose files are replaced.
        runtime: folder of onnxruntime-web's files; default find_onnxruntime_web().

    Raises:
        FileNotFoundError: onnxruntime-web is not installed (see find_onnxruntime_web).
        FileExistsError, ValueError, OSError: as check_web_folder; OSError also for a failed write, naming `folder`.
        KeyError: the file lacks the nz, image_shape or num_classes metadata (it was not written by export_onnx).
    """
    folder = check_web_folder(folder, onnx_file)
    runtime = runtime or find_onnxruntime_web()
    meta = page_metadata(onnx_file)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{folder.name}.", dir=folder.parent) as scratch:
        staged = Path(scratch)
        try:
            for name in PAGE_FILES:
                shutil.copyfile(Path(__file__).parent / "web_page" / name, staged / name)
            for name in RUNTIME_FILES:
                shutil.copyfile(runtime / name, staged / name)
            shutil.copyfile(onnx_file, staged / "model.onnx")
            (staged / "model.json").write_text(json.dumps(meta, indent=1) + "\n")
            (staged / PAGE_MARKER).write_text("written by `gan-models export --web`; its next export replaces "
                                              "these files\n")
        except OSError as err:  # a full disk (ENOSPC) names no file: say which folder could not be written
            raise OSError(err.errno, f"cannot write the web page {folder}: {err.strerror or err}") from None
        folder.mkdir(exist_ok=True)
        for path in staged.iterdir():  # renames within one file system: nothing is half-copied
            os.replace(path, folder / path.name)
    return folder / "index.html"
