"""Turn a finished training run into a shipped generator weight: measured, hash-named, with its record.

    python scripts/ship_generator.py runs/dcgan-mnist

Takes the run's generator (the EMA one when the run kept it), measures its sample quality with
`gan_models.quality.metrics.evaluate_generator` in float32 and again after a float16 and an int8 round trip
(gan_models.quantize: int8 weights with a float16 scale per slice of dim 0), and ships the smallest
of int8 (about a quarter of float32's bytes), float16 (half) and float32 whose Frechet distance is
within 1% of float32's and whose class shares stay within 2x of the real ones for every class above 2%
of the data (gan_models.quality.metrics.class_share_failures); the record's metrics are those of the
shipped storage. Writes
`gan_models/weights/<model>-<dataset>-<sha256[:12]>.pt` (a plain dict of tensors), an 8 x 8 sample
grid `docs/samples/<model>-<dataset>.png` from the shipped weights, and writes its record into
`gan_models/weights/generators.json` (replacing, and deleting the file of, an earlier record for
the same model and dataset), and rewrites README.md's table of sample grids (between its
`samples-table` markers). The record's command is rebuilt from the run's config.json: every field
that differs from TrainConfig's defaults, as the `gan-models train` option that sets it.

A conditional run (`--conditional`) ships as `c<model>-<dataset>` with `conditional` set in its record,
its class names in the constructor keywords, its class accuracy (per class and averaged) and
intra-class Frechet distance; its sample grid has one row of 8 per class.

    python scripts/ship_generator.py --remeasure   # every shipped generator measured again, records rewritten

Prints: the Frechet distance of each storage (stdout), the files written and any class-share warning
(stderr), then the new record as JSON (stdout). Run `python scripts/model_cards.py` afterwards to rewrite
the model cards and their table of every generator's numbers (docs/models/) from the records.
"""
import argparse
import csv
import dataclasses
import json
import os
import shlex
import sys
from pathlib import Path

import torch

from gan_models.atomic import atomic_write
from gan_models.data import load_labelled_images
from gan_models.emoji import dataset_credits
from gan_models.images import save_grid
from gan_models.machine import cpu_name
from gan_models.quality.classifier import NUM_CLASSES
from gan_models.quality.metrics import EvaluationReport, class_share_failures, evaluate_generator
from gan_models.quantize import dequantize_state_dict, quantize_state_dict
from gan_models.registry import (
    MANIFEST,
    WEIGHTS,
    WEIGHTS_DIR,
    WeightRecord,
    load_pretrained_generator,
    save_weights,
    weight_stem,
    write_record,
)
from gan_models.training.checkpoint import generator_from_state, load_checkpoint
from gan_models.training.config import TrainConfig

TOLERANCE = 0.01  # ship a smaller storage when it moves the Frechet distance by less than this fraction


def stored_forms(state_dict: dict) -> dict[str, tuple[dict, dict]]:
    """{storage: (the state dict as stored, the state dict as loading gives it back)}, smallest file first.

    The loaded form is what `gan_models.registry.load_shipped_state_dict` returns for that storage.
    """
    fp32 = {k: v.detach().clone() for k, v in state_dict.items()}
    fp16 = {k: v.half() if v.is_floating_point() else v for k, v in fp32.items()}
    int8 = quantize_state_dict(fp32)
    return {"int8": (int8, dequantize_state_dict(int8)), "float16": (fp16, fp16), "float32": (fp32, fp32)}


def train_command(config: dict, num_images: int) -> str:
    """The `gan-models train` command that reproduces a run's resolved config, trained on `num_images` images.

    Names the model, dataset and data root, then every field that differs from that model's resolved defaults
    (the batch size and augmentation as that many images choose them, TrainConfig.for_data).
    `config` may come from any gan-models version (read with TrainConfig.from_dict).
    """
    config = dataclasses.asdict(TrainConfig.from_dict(config))
    defaults = TrainConfig(model=config["model"], dataset=config["dataset"]).resolved()
    defaults = dataclasses.asdict(defaults.for_data(num_images)[0])
    parts = ["gan-models train", f"--model {config['model']}", f"--dataset {config['dataset']}",
             "--data-root ../shared/data"]
    for name, value in config.items():
        if name in ("model", "dataset", "data_root", "progress", "device") or value == defaults[name]:
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else f"--no-{flag[2:]}")
        else:
            parts.append(f"{flag} {shlex.quote(str(value))}")
    return " ".join(parts)


def checkpoint_command(state: dict) -> str:
    """The train command that ends exactly at this checkpoint: the run's, with --epochs cut to the checkpoint's
    epoch when it is an earlier one (e.g. best.pt). Without --lr-decay nothing in training looks
    ahead, so a run stopped after E epochs equals the longer run at epoch E. ValueError for a checkpoint taken
    mid-epoch, and for an earlier checkpoint of an --lr-decay run, whose rates depend on the run's --epochs."""
    config = dict(state["config"])
    steps_per_epoch = state["num_images"] // config["batch_size"]  # the trainer drops the last partial batch
    epochs, rest = divmod(state["step"], steps_per_epoch)
    if rest:
        raise ValueError(f"step {state['step']} is not the end of an epoch ({steps_per_epoch} steps each): ship a "
                         "checkpoint written at an epoch's end, which one command reproduces")
    if config.get("lr_decay") and epochs != config["epochs"]:
        raise ValueError(f"this checkpoint is epoch {epochs} of a {config['epochs']}-epoch --lr-decay run, whose "
                         "learning rates follow --epochs: no command reproduces it; ship the run's last checkpoint")
    return train_command({**config, "epochs": epochs}, state["num_images"])


SAMPLES_START, SAMPLES_END = "<!-- samples-table:start -->", "<!-- samples-table:end -->"
DATASET_ORDER = {"mnist": 0, "fashion-mnist": 1, "emoji": 2}  # the samples table's columns, left to right


def readme_samples(records: tuple[WeightRecord, ...]) -> str:
    """The README's table of sample grids (docs/samples/<stem>.png): a row per model, a column per dataset."""
    datasets = list(dict.fromkeys(r.dataset for r in sorted(records, key=lambda r: DATASET_ORDER.get(r.dataset, 9))))
    rows = {}
    for r in records:
        name = f"`{r.model}` conditional" if r.conditional else f"`{r.model}`"
        rows.setdefault(name, {})[r.dataset] = f"![{r.stem}](docs/samples/{r.stem}.png)"
    lines = ["Samples, seed 0: `G.sample(64, seed=0)`; a conditional generator's grid has a row of 8 per class "
             "(`labels=torch.arange(10).repeat_interleave(8)`).", "",
             "| | " + " | ".join(datasets) + " |", "|---" * (len(datasets) + 1) + "|"]
    for name, cells in rows.items():
        lines.append(f"| {name} | " + " | ".join(cells.get(d, "") for d in datasets) + " |")
    return "\n".join(lines)


def update_readme(records: tuple[WeightRecord, ...], readme: Path = Path("README.md")) -> None:
    """Replace the sample grids' table between its README markers (the numbers are the model cards')."""
    text = readme.read_text()
    start, end = text.index(SAMPLES_START) + len(SAMPLES_START), text.index(SAMPLES_END)
    text = text[:start] + "\n" + readme_samples(records) + "\n" + text[end:]
    with atomic_write(readme) as tmp:
        tmp.write_text(text)


def pick_storage(changes: dict[str, float], failures: dict[str, list[str]]) -> str:
    """The storage to ship: the smallest, int8 then float16, whose Frechet distance is within TOLERANCE of float32's
    (`changes`: the relative change per storage) and whose class shares pass the 2x bar (`failures`: the
    class_share_failures per storage); else float32."""
    return next((storage for storage in ("int8", "float16") if changes[storage] < TOLERANCE and not failures[storage]),
                "float32")


def step_seconds(run: Path) -> dict[int, float]:
    """{step: seconds spent in training steps up to and including it}, from log.csv's per-step images/s.

    Per-epoch work (grids, checkpoints) is excluded, so runs on a loaded machine still compare by their steps.
    """
    with open(run / "log.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    batch = json.loads((run / "config.json").read_text())["batch_size"]
    total, seconds = 0.0, {}
    for row in rows:
        total += batch / float(row["images_per_s"])
        seconds[int(row["step"])] = total
    return seconds


def _rounded(values, digits: int) -> tuple:
    return tuple(round(value, digits) for value in values)


def report_fields(report: EvaluationReport) -> dict:
    """The WeightRecord fields that hold an evaluation report (with its distribution numbers), rounded for the
    record: FD and the class numbers, FD's interval, KID, precision, recall, density and coverage, each beside its
    real-vs-real value, the copy check, and a conditional generator's class accuracy and intra-class FD."""
    g, real = report.generated, report.real
    fields = dict(
        frechet_distance=round(g.frechet_distance, 3), real_frechet_distance=round(real.frechet_distance, 3),
        classes_covered=g.classes_covered, kl_from_uniform=round(g.kl_from_uniform, 4),
        mean_confidence=round(g.mean_confidence, 4), eval_samples=report.samples,
        class_shares=_rounded(g.class_histogram, 4), real_class_shares=_rounded(real.class_histogram, 4),
        copy_distance=None if report.copy_check is None else round(report.copy_check.generated_median, 4),
        held_out_copy_distance=None if report.copy_check is None else round(report.copy_check.held_out_median, 4))
    for prefix, numbers in (("", report.generated_distribution), ("real_", report.real_distribution)):
        fields |= {f"{prefix}frechet_interval": _rounded(numbers.frechet_interval, 3),
                   f"{prefix}kid": round(numbers.kid, 5), f"{prefix}kid_std": round(numbers.kid_std, 5),
                   **{f"{prefix}{name}": round(getattr(numbers, name), 4)
                      for name in ("precision", "recall", "density", "coverage")}}
    if report.generated_classes is not None:
        mine, floor = report.generated_classes, report.real_classes
        fields |= dict(class_accuracy=round(mine.class_accuracy, 4),
                       per_class_accuracy=_rounded(mine.per_class_accuracy, 4),
                       intra_class_frechet_distance=round(mine.intra_class_frechet_distance, 3),
                       real_intra_class_frechet_distance=round(floor.intra_class_frechet_distance, 3))
    return fields


def remeasure(data_root: str | None, samples: int) -> tuple[WeightRecord, ...]:
    """Measure every shipped generator again, as loaded (`load_pretrained_generator`: hash-checked, its storage),
    and rewrite the measured fields of its record; the weights, commands and training figures stay."""
    records = ()
    for record in WEIGHTS:
        generator = load_pretrained_generator(record.model, record.dataset, conditional=record.conditional)
        report = evaluate_generator(generator, record.dataset, data_root, n_samples=samples)
        records = write_record(MANIFEST, dataclasses.replace(record, **report_fields(report)))
        print(f"{record.stem}: Frechet distance {record.frechet_distance} -> {report.generated.frechet_distance:.3f}",
              file=sys.stderr)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, nargs="?", help="Run folder written by `gan-models train`.")
    parser.add_argument("--remeasure", action="store_true",
                        help="Instead of shipping a run, measure every shipped generator again and rewrite the "
                             "measured fields of its record (then run scripts/model_cards.py).")
    parser.add_argument("--checkpoint", default="checkpoint.pt",
                        help="Which checkpoint of the run, e.g. best.pt (train --eval-every) "
                             "[default: checkpoint.pt, the last].")
    parser.add_argument("--data-root", default=None, help="Datasets folder [default: $GAN_MODELS_DATA].")
    parser.add_argument("--samples", type=int, default=10_000,
                        help="Images per compared set (capped at the test split).")
    parser.add_argument("--hardware", default=None,
                        help="Where the run trained [default: this machine's CPU model and core count, torch version].")
    parser.add_argument("--moved-by", default="",
                        help="What moved this generator past the weights shipped before, as measured at the same "
                             "budget from the same seed; its model card says it.")
    args = parser.parse_args()
    if args.remeasure:
        update_readme(remeasure(args.data_root, args.samples))
        return
    if args.run is None:
        parser.error("give a run folder, or --remeasure")

    state = load_checkpoint(args.run / args.checkpoint)
    model, dataset = state["model"], state["dataset"]
    generator = generator_from_state(state)
    forms = stored_forms(generator.state_dict())
    generators, reports = {}, {}
    for storage, (_, loaded) in forms.items():
        generators[storage] = generator_from_state({**state, "ema_generator": loaded, "generator": loaded})
        reports[storage] = evaluate_generator(generators[storage], dataset, args.data_root, n_samples=args.samples,
                                              distribution=False)
    fp32_distance = reports["float32"].generated.frechet_distance
    changes = {p: abs(r.generated.frechet_distance - fp32_distance) / fp32_distance for p, r in reports.items()}
    labels = load_labelled_images(dataset, args.data_root, split="train")[1]
    data_shares = (labels.bincount(minlength=NUM_CLASSES) / len(labels)).tolist()
    failures = {p: class_share_failures(r, data_shares) for p, r in reports.items()}
    storage = pick_storage(changes, failures)
    report = evaluate_generator(generators[storage], dataset, args.data_root, n_samples=args.samples)  # all of it

    kwargs = dict(state["generator_kwargs"])
    conditional = kwargs.pop("conditional", False)  # a field of the record, not a constructor keyword
    stem = weight_stem(model, dataset, conditional)
    path, sha256 = save_weights(forms[storage][0], WEIGHTS_DIR, stem)
    shipped = generators[storage]
    if conditional:  # one row of 8 per class
        labels = torch.arange(shipped.num_classes).repeat_interleave(8)
        images = shipped.sample(len(labels), seed=0, labels=labels)
    else:
        images = shipped.sample(64, seed=0)
    grid = save_grid(images, Path("docs/samples") / f"{stem}.png")

    record = WeightRecord(
        model=model, dataset=dataset, file=path.name, sha256=sha256,
        generator_kwargs=kwargs,
        num_params=sum(p.numel() for p in generator.parameters()),
        train_images=state["num_images"], image_shape=tuple(generator.image_shape),
        storage=storage,
        command=checkpoint_command(state),
        train_seconds=round(step_seconds(args.run)[state["step"]]),
        hardware=args.hardware or f"{cpu_name()} ({os.cpu_count()} cores), torch {torch.__version__}",
        moved_by=args.moved_by,
        credits=dataset_credits(dataset), conditional=conditional, **report_fields(report),
    )
    print(f"Frechet distance float32 {fp32_distance:.3f}, " + ", ".join(
          f"{p} {reports[p].generated.frechet_distance:.3f} ({changes[p]:.2%} change)" for p in ("float16", "int8"))
          + f": shipping {storage}", file=sys.stderr)
    print(f"wrote {path} ({path.stat().st_size:,} bytes) and {grid}", file=sys.stderr)
    if failures[storage]:
        print("warning: class shares off by more than 2x: " + "; ".join(failures[storage]), file=sys.stderr)
    update_readme(write_record(MANIFEST, record))
    print(json.dumps(dataclasses.asdict(record), indent=2))


if __name__ == "__main__":
    main()
