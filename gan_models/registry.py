"""Builders of the models in gan_models.specs, and the one place that knows which trained weights ship.

Builders turn a model name ("fcgan", "lsgan", "dcgan", "dcgan64"; gan_models.specs.MODELS) and an
image size (gan_models.specs.sized_spec: dcgan at 32, 64 or 128 is dcgan64's networks) into
fresh networks. Shipped weights are records (data, not code)
of state dicts stored in `gan_models/weights/`: generators in `generators.json` (WeightRecord),
the metric classifiers in `classifiers.json` (gan_models.quality.classifier.ClassifierRecord). Both are
read and written here, and loading checks the file's SHA-256 against the record before
`torch.load(..., weights_only=True)` ever sees it. A generator record's `storage` says how its file
stores the tensors; an "int8" file is dequantized on loading (gan_models.quantize).
"""
import dataclasses
import hashlib
import inspect
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, TypeVar

import torch

from gan_models.atomic import atomic_write
from gan_models.choices import WEIGHT_PRECISIONS
from gan_models.errors import first_line
from gan_models.nets.base import DiscriminatorBase, GeneratorBase
from gan_models.nets.conditional import ConditionalGenerator, ProjectionDiscriminator
from gan_models.quantize import dequantize_state_dict
from gan_models.specs import MODELS, ModelSpec, get_spec, sized_spec  # noqa: F401  (registry.MODELS is public)

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass(frozen=True)
class WeightRecord:
    """A shipped generator state dict: what it is, how it was made, and how good it is.

    Records live in `gan_models/weights/generators.json`, written by `scripts/ship_generator.py`.
    """

    KEY: ClassVar[tuple[str, ...]] = ("model", "conditional", "dataset")  # at most one record per key; sorted by it

    model: str  # key of MODELS
    dataset: str  # key of gan_models.data.DATASETS
    file: str  # file name in WEIGHTS_DIR, "<stem>-<first 12 hex digits of sha256>.pt"
    sha256: str  # full hex digest of the file
    generator_kwargs: dict = field(default_factory=dict)  # constructor keywords, e.g. {"ngf": 32}
    num_params: int = 0  # parameters of the generator
    train_images: int = 0  # images of the dataset's train split it was trained on
    image_shape: tuple = ()  # (C, H, W) of a generated image
    storage: str = "float32"  # one of WEIGHT_PRECISIONS: float32, float16 (half the bytes) or int8 (a quarter)
    command: str = ""  # the exact `gan-models train` command that produced it
    train_seconds: int = 0  # time spent in training steps
    hardware: str = ""  # where it was trained
    moved_by: str = ""  # what moved it past the weights shipped before, measured at the same budget and seed
    frechet_distance: float = 0.0  # classifier-feature Frechet distance to the test split (gan_models.quality.metrics)
    real_frechet_distance: float = 0.0  # the same for real train images: the floor
    # The distribution numbers (gan_models.quality.metrics.DistributionQuality) in the same features, same images:
    frechet_interval: tuple = ()  # (low, high): frechet_distance's 95% bootstrap interval
    kid: float = 0.0  # KID (unbiased MMD^2), mean over subsets; about 0 for real images
    kid_std: float = 0.0  # its standard deviation over the subsets
    precision: float = 0.0  # share of samples inside the test images' k-NN manifold (k = 3): fidelity
    recall: float = 0.0  # share of test images inside the samples' manifold: diversity
    density: float = 0.0  # mean count of test k-NN balls holding a sample, over k; about 1 for real images
    coverage: float = 0.0  # share of test images whose k-NN ball holds a sample
    real_frechet_interval: tuple = ()  # each of the above for real train images: their floor (or ceiling)
    real_kid: float = 0.0
    real_kid_std: float = 0.0
    real_precision: float = 0.0
    real_recall: float = 0.0
    real_density: float = 0.0
    real_coverage: float = 0.0
    classes_covered: int = 0  # classes receiving >= 2% of samples, of 10
    kl_from_uniform: float = 0.0  # KL(predicted class shares || uniform), nats
    mean_confidence: float = 0.0  # mean max-softmax of the classifier on samples
    eval_samples: int = 0  # images per compared set in the measurement
    class_shares: tuple = ()  # share of the samples the classifier puts in each class, in its class order
    real_class_shares: tuple = ()  # the same for real train images
    copy_distance: float | None = None  # median RMS distance of a sample to its nearest train image (0..1 scale)
    held_out_copy_distance: float | None = None  # the same for held-out real images: memorising scores far below
    credits: tuple = ()  # licence credit lines the training images require (Emoji64: Noto and Twemoji)
    conditional: bool = False  # a class-conditional generator G(z, labels); its class names are in generator_kwargs
    class_accuracy: float = 0.0  # conditional: share of images generated for a class classified as it, class mean
    per_class_accuracy: tuple = ()  # conditional: that share for each class
    intra_class_frechet_distance: float = 0.0  # conditional: mean over classes of the class-c distance
    real_intra_class_frechet_distance: float = 0.0  # the same for real train images and their labels: the floor

    @property
    def stem(self) -> str:
        """The weight file's name before its hash (`weight_stem`)."""
        return weight_stem(self.model, self.dataset, self.conditional)


class NoPretrainedWeightsError(ValueError):
    """No shipped weights match the requested model and dataset."""


class WeightsIntegrityError(RuntimeError):
    """A weight file is missing, or its SHA-256 differs from its record (corrupt or tampered)."""


class RecordFileError(ValueError):
    """A record file (generators.json, classifiers.json) holds an entry that is not a valid record."""


Record = TypeVar("Record")  # a record dataclass: KEY, a `stem` property, and `file` and `sha256` fields


def weight_stem(model: str, dataset: str, conditional: bool = False) -> str:
    """A shipped generator's name: "<model>-<dataset>", or "c<model>-<dataset>" (cdcgan-mnist) when conditional."""
    return f"{'c' if conditional else ''}{model}-{dataset}"


def weight_file_name(stem: str, sha256: str) -> str:
    """The name a shipped weight file is stored under: "<stem>-<first 12 hex digits of sha256>.pt"."""
    return f"{stem}-{sha256[:12]}.pt"


def save_weights(state_dict: dict, folder: Path, stem: str) -> tuple[Path, str]:
    """Write `state_dict` to `folder` as `weight_file_name(stem, sha256)`; returns the path and the sha256.

    The name comes from the SHA-256 of the serialized bytes, so they are hashed before anything is written.
    """
    buffer = io.BytesIO()
    torch.save(state_dict, buffer)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    path = Path(folder) / weight_file_name(stem, sha256)
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)
    return path, sha256


def read_records(path: Path, record_type: type[Record]) -> tuple[Record, ...]:
    """The records in the JSON list at `path` as `record_type` instances, each checked; () if there is no file.

    JSON lists become tuples where the field is a tuple. Raises RecordFileError naming the file and
    entry for unknown or missing fields, a sha256 that is not 64 hex digits, a file name other than
    `weight_file_name(record.stem, record.sha256)`, or a storage not in WEIGHT_PRECISIONS.
    """
    if not path.exists():
        return ()
    fields = {f.name: f for f in dataclasses.fields(record_type)}
    records = []
    for index, entry in enumerate(json.loads(path.read_text())):
        where = f"{path.name} entry {index}"
        unknown = sorted(set(entry) - set(fields))
        if unknown:
            raise RecordFileError(f"{where}: unknown field(s) {unknown}; a {record_type.__name__} has {list(fields)}")
        try:
            record = record_type(**{name: tuple(value) if fields[name].type is tuple else value
                                    for name, value in entry.items()})
        except TypeError as err:  # a required field is missing
            raise RecordFileError(f"{where}: {err}") from None
        records.append(_checked(record, where))
    return tuple(records)


def _checked(record: Record, where: str) -> Record:
    """`record`, once its sha256 is 64 lowercase hex digits, its file is named after it and its storage
    (if it has one) is known; else RecordFileError."""
    if len(record.sha256) != 64 or set(record.sha256) - set("0123456789abcdef"):
        raise RecordFileError(f"{where}: sha256 must be 64 lowercase hex digits, got {record.sha256!r}")
    expected = weight_file_name(record.stem, record.sha256)
    if record.file != expected:
        raise RecordFileError(f"{where}: file {record.file!r} should be named {expected!r}")
    storage = getattr(record, "storage", WEIGHT_PRECISIONS[0])
    if storage not in WEIGHT_PRECISIONS:
        raise RecordFileError(f"{where}: storage {storage!r} is not one of {list(WEIGHT_PRECISIONS)}")
    return record


def write_record(path: Path, record: Record) -> tuple[Record, ...]:
    """Add `record` to the record file `path`, replacing the one with the same KEY, and return all its records.

    A replaced record's weight file, in the folder of `path`, is deleted unless `record` names the
    same file (a byte-identical rerun). The file stays sorted by KEY, as indented JSON.
    """
    def key(r: Record) -> tuple:
        return tuple(getattr(r, name) for name in r.KEY)

    _checked(record, f"new record for {path.name}")
    records = []
    for old in read_records(path, type(record)):
        if key(old) != key(record):
            records.append(old)
        elif old.file != record.file:
            (path.parent / old.file).unlink(missing_ok=True)
    records = sorted([*records, record], key=key)
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps([dataclasses.asdict(r) for r in records], indent=2) + "\n")
    return tuple(records)


MANIFEST = WEIGHTS_DIR / "generators.json"
WEIGHTS: tuple[WeightRecord, ...] = read_records(MANIFEST, WeightRecord)


def _construct(cls: type, kwargs: dict, wrapper: type | None = None):
    """`cls(**kwargs)`, or `wrapper(cls, **kwargs)` (a conditional network around body `cls`), after checking
    that every keyword is one they accept (TypeError naming the unknown ones otherwise)."""
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    if wrapper is not None:
        accepted += [p for p, param in inspect.signature(wrapper.__init__).parameters.items()
                     if param.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(f"{cls.__module__}.{cls.__qualname__} got unknown keyword(s) {unknown}; it accepts {accepted}")
    return cls(**kwargs) if wrapper is None else wrapper(cls, **kwargs)


def _sized(cls: type, image_size: int | None) -> dict:
    """{"image_size": image_size} for a network class that takes it (Radford et al.'s DCGAN), else {}: the other
    classes make one size, the one `sized_spec` has checked."""
    takes_size = image_size is not None and "image_size" in inspect.signature(cls).parameters
    return {"image_size": image_size} if takes_size else {}


def build_generator(name: str, *, conditional: bool = False, image_size: int | None = None, **kwargs) -> GeneratorBase:
    """A freshly initialised generator of model `name`; keywords (nz, ngf, channels, ...) go to its constructor.

    `image_size` (None: the model's) picks the network of that size (`sized_spec`: dcgan at 64 is dcgan64's
    generator, nz=100 by default); a size the model does not build raises ValueError naming those it does.
    With `conditional`, the class-conditional generator G(z, labels) around it
    (gan_models.nets.conditional.ConditionalGenerator; also takes num_classes, classes, embed_dim).
    """
    cls = sized_spec(name, image_size).generator
    return _construct(cls, {**_sized(cls, image_size), **kwargs}, ConditionalGenerator if conditional else None)


def build_discriminator(name: str, *, conditional: bool = False, image_size: int | None = None,
                        **kwargs) -> DiscriminatorBase:
    """A freshly initialised discriminator of model `name`; keywords (ndf, channels, ...) go to its constructor.

    `image_size` picks the network of that size, as for `build_generator`. With `conditional`, the
    projection discriminator D(images, labels) around it
    (gan_models.nets.conditional.ProjectionDiscriminator; also takes num_classes, classes).
    """
    cls = sized_spec(name, image_size).discriminator
    return _construct(cls, {**_sized(cls, image_size), **kwargs}, ProjectionDiscriminator if conditional else None)


def find_weights(model: str, dataset: str, conditional: bool = False) -> WeightRecord:
    """The shipped record for (model, dataset, conditional); raises NoPretrainedWeightsError listing what exists."""
    get_spec(model)
    for record in WEIGHTS:
        if (record.model, record.dataset, record.conditional) == (model, dataset, conditional):
            return record
    shipped = [f"{'conditional ' if r.conditional else ''}{r.model} on {r.dataset}" for r in WEIGHTS] or ["none yet"]
    kind = "conditional " if conditional else ""
    raise NoPretrainedWeightsError(
        f"no pretrained weights for {kind}{model!r} on {dataset!r}; shipped: {', '.join(shipped)}. "
        "Use pretrained=False for a trainable network, or train one with `gan-models train`.")


def load_checked_state_dict(path: str | Path, sha256: str) -> dict:
    """Read `path`, check its SHA-256, and only then unpickle it with weights_only=True onto the CPU.

    The bytes are read once, so the file that was hashed is the file that is loaded. Raises
    WeightsIntegrityError for a missing file, a hash mismatch, or content weights_only refuses.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsIntegrityError(f"weight file missing: {path}")
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise WeightsIntegrityError(
            f"hash mismatch for {path}: expected sha256 {sha256}, got {actual}; the file is corrupt or was modified")
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, ... for a file it refuses
        raise WeightsIntegrityError(
            f"cannot load {path}: not a plain state dict, or it carries code ({first_line(err)})") from None


def load_shipped_state_dict(record: Record) -> dict:
    """The state dict a record names, from WEIGHTS_DIR, hash-checked by `load_checked_state_dict`.

    An int8 record's file is dequantized here (gan_models.quantize) to float32 with the original keys;
    float16 and float32 files, and records without a `storage` field (classifiers), are returned as stored
    (load_state_dict casts float16 to the module's dtype).
    """
    state_dict = load_checked_state_dict(WEIGHTS_DIR / record.file, record.sha256)
    return dequantize_state_dict(state_dict) if getattr(record, "storage", None) == "int8" else state_dict


def load_pretrained_generator(model: str, dataset: str, *, conditional: bool = False, image_size: int | None = None,
                              **kwargs) -> GeneratorBase:
    """The shipped generator for (model, dataset) in eval mode, hash-checked and loaded offline on the CPU.

    `conditional` picks the class-conditional generator's weights, `image_size` the model's network of that size
    (`sized_spec`: dcgan at 64 loads dcgan64's weights). Keywords may only restate how the stored weights were
    built (the record's constructor keywords, else the constructor's defaults); any other value raises
    ValueError naming it.
    """
    spec = sized_spec(model, image_size)
    record = find_weights(spec.name, dataset, conditional)
    cls = spec.generator
    kwargs = {**_sized(cls, image_size), **kwargs}
    wrapper = ConditionalGenerator if conditional else None
    built_with = {name: p.default for c in (cls, wrapper) if c is not None
                  for name, p in inspect.signature(c.__init__).parameters.items()
                  if p.default is not inspect.Parameter.empty} | record.generator_kwargs
    clashes = {k: v for k, v in kwargs.items() if k in built_with and built_with[k] != v}
    if clashes:
        changes = ", ".join(f"{k}={built_with[k]!r} (asked {v!r})" for k, v in sorted(clashes.items()))
        raise ValueError(f"pretrained {spec.name} on {dataset} was built with {changes}; its weights need those values")
    generator = _construct(cls, {**record.generator_kwargs, **kwargs}, wrapper)
    generator.load_state_dict(load_shipped_state_dict(record))
    return generator.eval()
