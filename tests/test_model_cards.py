"""docs/models/: the committed model cards are exactly what scripts/model_cards.py generates from the records."""
import dataclasses

import pytest

from gan_models.emoji import EMOJI_CREDITS
from gan_models.registry import WEIGHTS
from tests.helpers import REPO


@pytest.fixture
def model_cards(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    import model_cards

    return model_cards


def test_every_shipped_generator_has_a_card_equal_to_the_generated_one(model_cards):
    expected = model_cards.expected_cards()
    assert {path.stem for path in expected} == {r.stem for r in WEIGHTS} | {"README"}
    for path, text in expected.items():
        assert path.exists(), f"{path.name} is missing: run python scripts/model_cards.py"
        assert path.read_text() == text, f"{path.name} differs from its record: run python scripts/model_cards.py"
    assert sorted(model_cards.CARDS_DIR.glob("*.md")) == sorted(expected), "a card has no shipped generator"


def test_check_mode_fails_naming_a_card_that_differs(model_cards, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(model_cards, "CARDS_DIR", tmp_path)
    monkeypatch.setattr(model_cards, "REPO", tmp_path)
    assert model_cards.main(["--check"]) == 1  # nothing written yet
    assert model_cards.main([]) == 0 and model_cards.main(["--check"]) == 0
    stem = WEIGHTS[0].stem
    card = tmp_path / f"{stem}.md"
    card.write_text(card.read_text().replace(f"{WEIGHTS[0].frechet_distance:.1f}", "0.1"))
    (tmp_path / "gone-mnist.md").write_text("a generator that no longer ships")
    capsys.readouterr()
    assert model_cards.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert f"{stem}.md differs from its record" in out and "gone-mnist.md has no shipped generator" in out
    assert model_cards.main([]) == 0 and not (tmp_path / "gone-mnist.md").exists()
    assert model_cards.main(["--check"]) == 0


def test_a_card_holds_its_records_numbers_command_credits_and_grid(model_cards):
    emoji = next(r for r in WEIGHTS if r.credits)
    text = model_cards.card(emoji, model_cards.classifiers()[emoji.dataset])
    assert emoji.command in text and emoji.sha256 in text and f"{emoji.train_images:,}" in text
    assert f"{emoji.frechet_distance:.1f}" in text and emoji.hardware in text
    assert all(line in text for line in emoji.credits)
    assert f"../samples/{emoji.stem}.png" in text


def test_the_index_has_a_row_per_generator_and_the_credits_of_emoji_weights(model_cards):
    mnist = WEIGHTS[0]
    emoji = dataclasses.replace(mnist, model="dcgan64", dataset="emoji", credits=EMOJI_CREDITS)
    table = model_cards.index((mnist, emoji))
    rows = [line for line in table.splitlines() if line.startswith("| [")]
    assert len(rows) == 2 and rows[0].startswith(f"| [{mnist.stem}]({mnist.stem}.md) |")
    assert f"{mnist.frechet_distance:.1f} [{mnist.frechet_interval[0]:.1f}, " in rows[0]
    assert table.endswith("\n".join(["Weights trained on emoji credit its images:",
                                     *(f"- {line}" for line in EMOJI_CREDITS)]) + "\n")
    assert "credit" not in model_cards.index((mnist,))


def test_a_card_says_what_moved_its_generator_when_the_record_does(model_cards):
    record = dataclasses.replace(WEIGHTS[0], moved_by="R1 (`--r1 1`): FD 17.2 -> 8.9 at the same budget")
    training = model_cards.card(record, None).split("## Training")[1].split("## Weights")[0]
    assert "- What moved it: R1 (`--r1 1`): FD 17.2 -> 8.9 at the same budget\n" in training
    assert "What moved it" not in model_cards.card(dataclasses.replace(record, moved_by=""), None)
